# Tries: write outside the root through /proc/self/root, /proc/1/root and the root of every visible
# process, into the host-only directory the test made (it does not exist in the image).
for r in /proc/self/root /proc/1/root /proc/[0-9]*/root /proc/[0-9]*/cwd/../../../../../../..; do
  if mark_host "$r"; then escaped "wrote a marker on the host through $r$ATTACK_HOST_DIR"; fi
done
blocked "the host-only directory is not reachable through /proc/*/root or /proc/*/cwd"
