#!/usr/bin/python3
# A polkit authentication agent for tests, speaking polkit's agent protocol to the real polkitd on
# $DBUS_SYSTEM_BUS_ADDRESS, registered for one process (as pkttyagent --process PID would be):
#   polkit-agent.py PID approve ADMIN    answers every request as the administrator ADMIN (a user name)
#   polkit-agent.py PID refuse           dismisses every request, as a person pressing Cancel would
# It prints "registered" once polkitd knows it, then "asked ACTION_ID" for each request, and runs until
# SIGTERM. It runs as root: only uid 0 may give polkitd an authentication's answer
# (AuthenticationAgentResponse2); pkttyagent's setuid helper would, but a setuid GLib program ignores
# DBUS_SYSTEM_BUS_ADDRESS and so never reaches a test's private bus. No password is checked here: the
# test decides what the person at the agent would have answered.
import pwd
import signal
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

AGENT_IFACE = "org.freedesktop.PolicyKit1.AuthenticationAgent"
AGENT_PATH = "/org/imgcreate/TestAgent"


class Agent(dbus.service.Object):
    def __init__(self, bus, authority, admin_uid):
        super().__init__(bus, AGENT_PATH)
        self.authority = authority
        self.admin_uid = admin_uid

    @dbus.service.method(AGENT_IFACE, in_signature="sssa{ss}sa(sa{sv})", out_signature="")
    def BeginAuthentication(self, action_id, message, icon_name, details, cookie, identities):
        print("asked %s" % action_id, flush=True)
        if self.admin_uid is None:
            raise dbus.exceptions.DBusException("dismissed", name="org.freedesktop.PolicyKit1.Error.Cancelled")
        for kind, attrs in identities:
            if kind == "unix-user" and int(attrs.get("uid", -1)) == self.admin_uid:
                self.authority.AuthenticationAgentResponse2(dbus.UInt32(0), cookie, (kind, attrs))
                return
        offered = ", ".join("%s:%s" % (k, dict(a)) for k, a in identities)
        raise dbus.exceptions.DBusException("not offered the administrator (%s)" % offered,
                                            name="org.freedesktop.PolicyKit1.Error.Failed")

    @dbus.service.method(AGENT_IFACE, in_signature="s", out_signature="")
    def CancelAuthentication(self, cookie):
        print("cancelled", flush=True)


def main():
    pid = int(sys.argv[1])
    admin_uid = pwd.getpwnam(sys.argv[3]).pw_uid if sys.argv[2] == "approve" else None
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SystemBus()
    authority = dbus.Interface(bus.get_object("org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority"),
                               "org.freedesktop.PolicyKit1.Authority")
    Agent(bus, authority, admin_uid)
    subject = ("unix-process", {"pid": dbus.UInt32(pid), "start-time": dbus.UInt64(0)})
    authority.RegisterAuthenticationAgent(subject, "C", AGENT_PATH)
    print("registered", flush=True)
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    loop.run()
    try:
        authority.UnregisterAuthenticationAgent(subject, AGENT_PATH)
    except dbus.exceptions.DBusException:
        pass  # the process it was for is gone, and polkitd forgot the agent with it
    return 0


sys.exit(main())
