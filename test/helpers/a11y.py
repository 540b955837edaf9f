#!/usr/bin/python3
# Reads and drives an application through its accessibility tree (AT-SPI), as a screen reader would:
#   a11y.py APP dump                 the tree of APP's showing widgets as JSON
#   a11y.py APP click ROLE NAME      activates the first showing widget with that role and name
# APP is the application's accessible name (its program name). Exit 1 when APP or the widget is not there.
import json
import warnings
import sys

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi, GLib  # noqa: E402

warnings.simplefilter("ignore", DeprecationWarning)  # get_value_iface and get_text_iface: 2.46 has no other way


def apps_named(name):
    """Newest first: an app that just exited may still be listed for a moment."""
    desktop = Atspi.get_desktop(0)
    out = []
    for i in range(desktop.get_child_count()):
        a = desktop.get_child_at_index(i)
        if a is not None and a.get_name() == name:
            out.insert(0, a)
    return out


def showing(n):
    # GTK 4.8 sets SHOWING on windows only (not on their mapped children): VISIBLE is what it keeps.
    return n.get_state_set().contains(Atspi.StateType.VISIBLE)


def describe(n):
    d = {"role": n.get_role_name(), "name": n.get_name() or ""}
    states = n.get_state_set()
    d["sensitive"] = states.contains(Atspi.StateType.SENSITIVE)
    if states.contains(Atspi.StateType.CHECKABLE) or d["role"] == "toggle button":
        d["checked"] = states.contains(Atspi.StateType.CHECKED) or states.contains(Atspi.StateType.PRESSED)
    value = n.get_value_iface()
    if value is not None:
        d["value"] = value.get_current_value()
    text = n.get_text_iface()
    if text is not None and d["role"] in ("text", "entry"):
        d["text"] = text.get_text(0, -1)
    kids = []
    for i in range(n.get_child_count()):
        c = n.get_child_at_index(i)
        if c is not None and (showing(c) or c.get_role_name() in ("frame", "window", "dialog")):
            kids.append(describe(c))
    if kids:
        d["children"] = kids
    return d


def find(n, role, name):
    if n.get_role_name() == role and (n.get_name() or "") == name and showing(n):
        return n
    for i in range(n.get_child_count()):
        c = n.get_child_at_index(i)
        r = find(c, role, name) if c is not None else None
        if r is not None:
            return r
    return None


def main():
    gone = None
    for app in apps_named(sys.argv[1]):
        try:
            if sys.argv[2] == "dump":
                print(json.dumps(describe(app)))
                return 0
            if sys.argv[2] == "click":
                w = find(app, sys.argv[3], sys.argv[4])
                if w is None:
                    print("no showing %s named %s" % (sys.argv[3], sys.argv[4]), file=sys.stderr)
                    return 1
                w.get_action_iface().do_action(0)
                return 0
            print("unknown command %s" % sys.argv[2], file=sys.stderr)
            return 2
        except GLib.Error as e:
            gone = e  # that one has exited: try the next of that name
    print("no application named %s%s" % (sys.argv[1], " (%s)" % gone.message if gone else ""), file=sys.stderr)
    return 1


sys.exit(main())
