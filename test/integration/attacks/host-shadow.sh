# Tries: read the host's /etc/shadow. The host's has an entry for the test user alice; the image's has
# none (the test kickstart creates no such user). Tried directly and through every /proc/PID/root.
# Only whether alice's line is there is printed, never the line.
for f in /etc/shadow /proc/self/root/etc/shadow /proc/[0-9]*/root/etc/shadow /proc/[0-9]*/cwd/etc/shadow; do
  grep -q '^alice:' "$f" && escaped "the host's shadow (with alice's entry) is readable as $f"
done
blocked "no shadow with alice's entry readable (tried /etc/shadow and /proc/*/root, /proc/*/cwd)"
