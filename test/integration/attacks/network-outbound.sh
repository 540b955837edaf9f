# Tries: the network without asking (no %addon org_imgcreate --network=outbound): the apt mirror named in
# the image's sources (port 80) and the cloud metadata address 169.254.169.254. Connect only.
hosts=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | grep -oE 'https?://[^/ ]+' | sed 's#.*://##' | sort -u | head -3)
got=""; no=""
for h in $hosts 169.254.169.254; do
  if timeout 5 bash -c "exec 3<>/dev/tcp/$h/80" 2>/dev/null; then got="$got $h:80"; else no="$no $h"; fi
done
[ -n "$got" ] && escaped "outbound TCP connected to$got without --network=outbound"
blocked "no outbound connection to:$no"
