# Tries: reach a server that listens only on the host's 127.0.0.1 (the test's HTTP server; a cloud
# metadata service or a local admin API would be as open). The test also checks the server saw nothing.
if exec 3<>/dev/tcp/127.0.0.1/$ATTACK_HTTP_PORT; then
  printf 'GET /attack/%s/%s HTTP/1.0\r\nHost: x\r\n\r\n' "$ATTACK_NAME" "$ATTACK_MODE" >&3
  resp=$(timeout 5 cat <&3 | tr -d '\r' | tail -1); exec 3<&-
  case $resp in *"$ATTACK_TOKEN"*) escaped "GET http://127.0.0.1:$ATTACK_HTTP_PORT/ answered with the host's token";; esac
  escaped "connected to the host's 127.0.0.1:$ATTACK_HTTP_PORT (answer: $resp)"
fi
blocked "connect to 127.0.0.1:$ATTACK_HTTP_PORT refused or unreachable (interfaces: $(ls /sys/class/net 2>/dev/null | tr '\n' ' ' ; awk 'NR>2{sub(":","",$1); printf "%s ", $1}' /proc/net/dev))"
