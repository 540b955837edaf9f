# Tries: write outside the root through a symlink that points at a host path: our own write through it,
# and (in %post mode) the daemon's: the next %post has --log=/root/attack-symlink.log, which this plants
# as a symlink to the host-only directory. The test checks the host for the markers.
ln -sfn "$ATTACK_HOST_DIR/escaped-$ATTACK_NAME-$ATTACK_MODE" /root/attack-symlink-link
[ "$ATTACK_MODE" = post ] && ln -sfn "$ATTACK_HOST_DIR/escaped-$ATTACK_NAME-daemon-log" /root/attack-symlink.log
if echo marker > /root/attack-symlink-link; then
  rm -f /root/attack-symlink-link
  sees_host && escaped "wrote a host file through a symlink in the image"
  blocked "the write through the symlink landed inside the image, not on the host"
fi
rm -f /root/attack-symlink-link
blocked "the symlink's target $ATTACK_HOST_DIR does not exist here (it resolves inside the image)"
