# Tries: write outside the root through a symlink that points at a host path: our own write through it,
# and (in %post mode) the daemon's: the next %post has --log=/root/attack-symlink.log, which this plants
# as a symlink to /var/tmp/imgcreate-attack-TOKEN-daemon-log (a directory that exists both in the image
# and on the host, so a write resolved inside succeeds and the build goes on). The test checks the host.
ln -sfn "$ATTACK_HOST_DIR/escaped-$ATTACK_NAME-$ATTACK_MODE" /root/attack-symlink-link
[ "$ATTACK_MODE" = post ] && ln -sfn "/var/tmp/imgcreate-attack-$ATTACK_TOKEN-daemon-log" /root/attack-symlink.log
if echo marker > /root/attack-symlink-link; then
  rm -f /root/attack-symlink-link
  sees_host && escaped "wrote a host file through a symlink in the image"
  blocked "the write through the symlink landed inside the image, not on the host"
fi
rm -f /root/attack-symlink-link
blocked "the symlink's target $ATTACK_HOST_DIR does not exist here (it resolves inside the image)"
