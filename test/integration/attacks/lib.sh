# Shared by every attack script (prepended by sandbox-attacks.test.ts after the ATTACK_* variables):
# how an attack reports its one line, and how it tells the host from the image.
#   ATTACK_NAME ATTACK_MODE(post|shell) ATTACK_TOKEN ATTACK_HOST_DIR ATTACK_HTTP_PORT ATTACK_BUS_SOCKET
#   ATTACK_API_SOCKET ATTACK_ABSTRACT ATTACK_HOST_NS ATTACK_CANARY_TAG_PREFIX ATTACK_FORK_NET
#   ATTACK_MEM_NET_MIB ATTACK_FILL_NET_MIB
# Every attack prints exactly one line: "ATTACK <name> BLOCKED <why>" or "ATTACK <name> ESCAPED <evidence>".
# Nothing here may change the host if an attack succeeds: sysctls get back the value read, sysrq and
# other trigger files are only opened, never written.
set +e
exec 2>/dev/null
attack_line() { printf 'ATTACK %s %s %s\n' "$ATTACK_NAME" "$1" "$(printf '%s' "$2" | tr '\n\r\t' '   ' | cut -c1-400)"; }
blocked() { attack_line BLOCKED "$*"; exit 0; }
escaped() { attack_line ESCAPED "$*"; exit 0; }
# The host's canary file (the test wrote the token into it) is visible only if "/" is the host's.
sees_host() { [ "$(cat "${1:-}$ATTACK_HOST_DIR/canary" 2>/dev/null)" = "$ATTACK_TOKEN" ]; }
# A marker in the host-only directory: the test fails the attack if the file appears on the host.
mark_host() { echo "$ATTACK_NAME $ATTACK_MODE" > "${1:-}$ATTACK_HOST_DIR/escaped-$ATTACK_NAME-$ATTACK_MODE"; }
# Namespace ids of the host (from the test process), e.g. "user:[4026531837] mnt:[...] ...".
host_ns() { for n in $ATTACK_HOST_NS; do case $n in "$1":*) echo "$n";; esac; done; }
in_host_userns() { [ "$(readlink /proc/self/ns/user)" = "$(host_ns user)" ]; }
uid_map() { tr -s ' ' < /proc/self/uid_map | sed 's/^ //' | tr '\n' ';'; }
canary_tag() { echo "${ATTACK_CANARY_TAG_PREFIX}${ATTACK_TOKEN}"; }
# errno names for perl's $! numbers we care about
