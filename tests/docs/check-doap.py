#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks fsthread.doap: well-formed XML (xmllint --noout), RDF/XML with
one DOAP project that has the fields GNOME's tools read, none of them
empty: a maintainer with a name, a homepage, a bug database, a git
repository with its location, and the languages of C, Python, JavaScript
and Vala.

    check-doap.py XMLLINT FILE
"""

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
DOAP = "{http://usefulinc.com/ns/doap#}"
FOAF = "{http://xmlns.com/foaf/0.1/}"
REQUIRED = ["name", "shortdesc", "description", "programming-language", "license",
            "homepage", "bug-database", "repository", "maintainer"]
LANGUAGES = {"C", "Python", "JavaScript", "Vala"}


def main():
    xmllint, path = sys.argv[1:3]
    print("1..3")
    proc = subprocess.run([xmllint, "--noout", path],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        print("not ok 1 - xmllint --noout %s" % path)
        for line in proc.stdout.decode("utf-8", "replace").splitlines():
            print("# " + line)
        return 1
    print("ok 1 - xmllint --noout accepts it")

    root = ET.parse(path).getroot()
    problems = []
    # RDF/XML: an rdf:RDF element holding the project, or, as GNOME's DOAP
    # files are written, the project as the only node element.
    if root.tag == DOAP + "Project":
        projects = [root]
    elif root.tag == RDF + "RDF":
        projects = root.findall(DOAP + "Project")
    else:
        projects = []
        problems.append("the root element is %s, not rdf:RDF or doap:Project" % root.tag)
    if len(projects) != 1:
        problems.append("%d doap:Project elements, expected 1" % len(projects))
    else:
        project = projects[0]
        for field in REQUIRED:
            elements = project.findall(DOAP + field)
            if not elements:
                problems.append("no doap:%s" % field)
            for e in elements:
                if (not (e.text or "").strip() and not e.get(RDF + "resource")
                        and len(e) == 0):
                    problems.append("doap:%s is empty" % field)
        languages = {(e.text or "").strip() for e in project.findall(DOAP + "programming-language")}
        if not LANGUAGES <= languages:
            problems.append("programming languages: no %s" % ", ".join(sorted(LANGUAGES - languages)))
        for maintainer in project.findall(DOAP + "maintainer"):
            person = maintainer.find(FOAF + "Person")
            if person is None or not (person.findtext(FOAF + "name") or "").strip():
                problems.append("doap:maintainer has no foaf:Person with a foaf:name")
        locations = project.findall(DOAP + "repository/" + DOAP + "GitRepository/" + DOAP + "location")
        if not any(e.get(RDF + "resource", "").startswith("https://") for e in locations):
            problems.append("doap:repository has no GitRepository with an https location")
        name = project.find(DOAP + "name")
        if name is not None and (name.text or "").strip() != "fsthread":
            problems.append("doap:name is %r, not 'fsthread'" % name.text)
    if problems:
        print("not ok 2 - the DOAP project has its fields")
        for p in problems:
            print("# " + p)
        return 1
    print("ok 2 - one doap:Project with %s" % ", ".join(REQUIRED))

    # An RDF parser, when there is one (Debian: raptor2-utils).
    rapper = shutil.which("rapper")
    if rapper is None:
        print("ok 3 - RDF/XML parser # SKIP rapper not found")
        return 0
    proc = subprocess.run([rapper, "--quiet", "-i", "rdfxml", "-o", "ntriples", path],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        print("not ok 3 - rapper parses it as RDF/XML")
        for line in proc.stdout.decode("utf-8", "replace").splitlines():
            print("# " + line)
        return 1
    print("ok 3 - rapper parses it as RDF/XML")
    return 0


if __name__ == "__main__":
    sys.exit(main())
