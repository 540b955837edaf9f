# Tries: read firmware tables through /sys/firmware (ACPI tables, DMI, EFI variables; should be masked).
for f in /sys/firmware/acpi/tables/DSDT /sys/firmware/acpi/tables/APIC /sys/firmware/dmi/tables/DMI /sys/firmware/dmi/tables/smbios_entry_point $(ls -d /sys/firmware/efi/efivars/* 2>/dev/null | head -3); do
  [ -e $f ] || continue
  n=$(head -c 64 $f 2>/dev/null | wc -c); [ "$n" -gt 0 ] && escaped "read $f ($n bytes); /sys/firmware holds: $(ls /sys/firmware | tr '\n' ' ')"
done
blocked "nothing readable under /sys/firmware (it holds: $(ls /sys/firmware 2>&1 | tr '\n' ' '))"
