#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every public symbol of Fs-1.gir is documented: a doc comment, a Since:
(the GIR's version attribute), every parameter and every return value
described, every enumeration member too.

    check-gir-docs.py Fs-1.gir

The class structures G_DECLARE_FINAL_TYPE makes (FsThreadClass ...) have no
fields and no page of their own: they are not checked.
"""

import sys
import xml.etree.ElementTree as ET

CORE = "{http://www.gtk.org/introspection/core/1.0}"
GLIB = "{http://www.gtk.org/introspection/glib/1.0}"
SYMBOLS = {"class", "interface", "record", "enumeration", "bitfield", "function",
           "method", "constructor", "constant", "callback", "property", "signal",
           "alias", "function-macro", "virtual-method"}
CALLABLES = {"function", "method", "constructor", "callback", "function-macro",
             "virtual-method", "signal"}


def local(tag):
    return tag[len(CORE):] if tag.startswith(CORE) else tag


def check(element, path, problems):
    tag = local(element.tag)
    if tag == "record" and element.get(GLIB + "is-gtype-struct-for"):
        return
    if tag in SYMBOLS:
        if element.find(CORE + "doc") is None:
            problems.append("%s: no documentation" % path)
        if element.get("version") is None and tag != "virtual-method":
            problems.append("%s: no Since:" % path)
    if tag in CALLABLES:
        params = element.find(CORE + "parameters")
        for param in params if params is not None else []:
            if param.find(CORE + "doc") is None:
                problems.append("%s: parameter %s is not described"
                                % (path, param.get("name")))
        ret = element.find(CORE + "return-value")
        if ret is not None:
            rtype = ret.find(CORE + "type")
            void = rtype is not None and rtype.get("name") == "none"
            if not void and ret.find(CORE + "doc") is None:
                problems.append("%s: the return value is not described" % path)
    if tag in ("enumeration", "bitfield"):
        for member in element.findall(CORE + "member"):
            if member.find(CORE + "doc") is None:
                problems.append("%s: member %s is not described" % (path, member.get("name")))
    for child in element:
        if local(child.tag) in SYMBOLS:
            check(child, "%s.%s" % (path, child.get("name")), problems)


def main():
    namespace = ET.parse(sys.argv[1]).getroot().find(CORE + "namespace")
    problems = []
    count = 0
    for child in namespace:
        if local(child.tag) in SYMBOLS:
            count += 1
            check(child, child.get("name"), problems)
    print("1..1")
    if problems:
        print("not ok 1 - every public symbol is documented")
        for p in problems:
            print("# " + p)
        return 1
    print("ok 1 - %d top-level symbols and their members documented, with Since:" % count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
