#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks that the project's addresses agree and reach the reference.

    check-urls.py DOAP FS_TOML [INDEX_HTML]

The homepage and the git repository of fsthread.doap are the website_url,
browse_url and repository_url of the gi-docgen configuration; the built
reference's index page, when given, shows them in its Website and Source
rows.
"""

import re
import sys
import tomllib
import xml.etree.ElementTree as ET

RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
DOAP = "{http://usefulinc.com/ns/doap#}"


def resource(project, path):
    e = project.find(path)
    return None if e is None else e.get(RDF + "resource")


def main():
    doap_path, toml_path = sys.argv[1:3]
    index = sys.argv[3] if len(sys.argv) > 3 else None
    print("1..%d" % (3 if index else 2))

    root = ET.parse(doap_path).getroot()
    project = root if root.tag == DOAP + "Project" else root.find(DOAP + "Project")
    homepage = resource(project, DOAP + "homepage")
    browse = resource(project, "%srepository/%sGitRepository/%sbrowse" % (DOAP, DOAP, DOAP))
    location = resource(project, "%srepository/%sGitRepository/%slocation" % (DOAP, DOAP, DOAP))

    with open(toml_path, "rb") as f:
        library = tomllib.load(f).get("library", {})
    status = 0

    want = {"website_url": homepage, "browse_url": browse, "repository_url": location}
    wrong = ["%s = %r, fsthread.doap says %r" % (k, library.get(k), v)
             for k, v in want.items() if not v or library.get(k) != v]
    if wrong:
        print("not ok 1 - the reference's addresses are fsthread.doap's")
        for line in wrong:
            print("# " + line)
        status = 1
    else:
        print("ok 1 - website_url, browse_url and repository_url are fsthread.doap's")

    if all(v and v.startswith("https://") for v in want.values()):
        print("ok 2 - every address is https")
    else:
        print("not ok 2 - every address is https: %r" % want)
        status = 1

    if index:
        with open(index, encoding="utf-8") as f:
            html = f.read()
        rows = dict(re.findall(r"<tr><td><em>(\w+)</em></td><td><a href=\"([^\"]*)\"", html))
        if rows.get("Website") == homepage and rows.get("Source") == browse:
            print("ok 3 - the reference's index shows the Website and Source rows")
        else:
            print("not ok 3 - the reference's index shows the Website and Source rows")
            print("# rows: %r" % rows)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
