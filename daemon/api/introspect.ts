// D-Bus introspection XML derived from the API table (methods.ts). Run directly to print the XML of every
// interface: `node dist/daemon/api/introspect.js > imgcreate.xml` (valid against introspect.dtd).
import { pathToFileURL } from "node:url";
import { METHODS, PROPERTIES, SIGNALS } from "./methods.js";
import { INTERFACES, type InterfaceName } from "./names.js";

const DOCTYPE =
  '<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"\n "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">';

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function doc(text: string, indent: string): string {
  return `${indent}<annotation name="org.gtk.GDBus.DocString" value="${esc(text)}"/>\n`;
}

/** One of our interfaces as an <interface> element. */
export function interfaceXml(iface: InterfaceName): string {
  let x = `  <interface name="${INTERFACES[iface]}">\n`;
  for (const m of METHODS.filter((m) => m.iface === iface && !m.jsonrpcOnly)) {
    x += `    <method name="${m.name}">\n`;
    for (const p of m.params) x += `      <arg name="${p.name}" type="${p.type.sig}" direction="in"/>\n`;
    if (m.result) x += `      <arg name="${m.result.name}" type="${m.result.sig}" direction="out"/>\n`;
    x += doc(`${m.doc} (polkit: ${m.action}${m.states ? `; states: ${m.states.join(", ")}` : ""})`, "      ");
    x += `    </method>\n`;
  }
  for (const s of SIGNALS[iface]) {
    x += `    <signal name="${s.name}">\n`;
    for (const a of s.args) x += `      <arg name="${a.name}" type="${a.sig}"/>\n`;
    x += doc(s.doc, "      ") + `    </signal>\n`;
  }
  for (const p of PROPERTIES[iface]) {
    x += `    <property name="${p.name}" type="${p.sig}" access="read">\n`;
    if (iface === "Job") x += `      <annotation name="org.freedesktop.DBus.Property.EmitsChangedSignal" value="true"/>\n`;
    x += doc(p.doc, "      ") + `    </property>\n`;
  }
  return x + `  </interface>\n`;
}

const STANDARD = `  <interface name="org.freedesktop.DBus.Introspectable">
    <method name="Introspect"><arg name="xml_data" type="s" direction="out"/></method>
  </interface>
  <interface name="org.freedesktop.DBus.Peer">
    <method name="Ping"/>
    <method name="GetMachineId"><arg name="machine_uuid" type="s" direction="out"/></method>
  </interface>
  <interface name="org.freedesktop.DBus.Properties">
    <method name="Get"><arg name="interface_name" type="s" direction="in"/><arg name="property_name" type="s" direction="in"/><arg name="value" type="v" direction="out"/></method>
    <method name="GetAll"><arg name="interface_name" type="s" direction="in"/><arg name="props" type="a{sv}" direction="out"/></method>
    <method name="Set"><arg name="interface_name" type="s" direction="in"/><arg name="property_name" type="s" direction="in"/><arg name="value" type="v" direction="in"/></method>
    <signal name="PropertiesChanged"><arg name="interface_name" type="s"/><arg name="changed_properties" type="a{sv}"/><arg name="invalidated_properties" type="as"/></signal>
  </interface>
`;

const OBJECT_MANAGER = `  <interface name="org.freedesktop.DBus.ObjectManager">
    <method name="GetManagedObjects"><arg name="objects" type="a{oa{sa{sv}}}" direction="out"/></method>
    <signal name="InterfacesAdded"><arg name="object" type="o"/><arg name="interfaces" type="a{sa{sv}}"/></signal>
    <signal name="InterfacesRemoved"><arg name="object" type="o"/><arg name="interfaces" type="as"/></signal>
  </interface>
`;

/** The XML of one object node: its interfaces (if any) and its children's names. */
export function nodeXml(ifaces: readonly InterfaceName[], children: readonly string[], objectManager = false): string {
  let x = `${DOCTYPE}\n<node>\n`;
  if (ifaces.length > 0 || objectManager) x += STANDARD;
  if (objectManager) x += OBJECT_MANAGER;
  for (const i of ifaces) x += interfaceXml(i);
  for (const c of children) x += `  <node name="${esc(c)}"/>\n`;
  return x + `</node>\n`;
}

/** Every interface of the service in one document (for docs and the lint test). */
export function fullXml(): string {
  return nodeXml(["Manager", "Session", "Job"], [], true);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) process.stdout.write(fullXml());
