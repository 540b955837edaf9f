# Tries: leave a setuid-root shell in the image (chmod 4755 on a copy of bash) for a host user to run.
# Setuid files are legitimate in images; the escape is whether one is usable from the HOST: the test
# runs it as alice from the host side (id -u must not be 0). This line only says whether it was planted.
f=/usr/local/bin/attack-suid-$ATTACK_MODE
cp /bin/bash $f && chmod 4755 $f || blocked "could not plant $f"
blocked "planted $f ($(stat -c '%A %u:%g' $f)); the host-side check decides whether a host user can use it"
