#!/usr/bin/env python3
"""Write a `git fast-import` stream of a small polyglot project's history to stdout.

usage: gen_history.py COMMITS [SEED]

Each commit makes a realistic small change: one to three files edited (a few lines replaced,
inserted or deleted), now and then a new file, by one of a dozen authors, one commit every
few hours. Deterministic for a given seed, so scan figures are comparable between runs.
Used by scan-bench.sh; not a test fixture.
"""

import random
import sys

AUTHORS = [
    ("Ada Lovelace", "ada@example.org"),
    ("Grace Hopper", "grace@example.org"),
    ("Linus Pauling", "linus@example.org"),
    ("Margaret Hamilton", "margaret@example.org"),
    ("Dennis Ritchie", "dmr@example.org"),
    ("Barbara Liskov", "barbara@example.org"),
    ("Ken Thompson", "ken@example.org"),
    ("Frances Allen", "fran@example.org"),
    ("Edsger Dijkstra", "ewd@example.org"),
    ("Radia Perlman", "radia@example.org"),
    ("Jörg Müller", "joerg@example.org"),
    ("山田 太郎", "taro@example.org"),
]
IDENTS = ["config", "buffer", "request", "items", "entry", "value", "result", "path", "name",
          "index", "count", "offset", "handler", "client", "session", "parser", "reader",
          "options", "state", "cache", "key", "record", "payload", "header", "timeout", "limit"]
TYPES = ["Config", "Request", "Response", "Error", "Parser", "Client", "Session", "Record",
         "Options", "State", "Cache", "Node", "Token", "Builder", "Registry"]
NOUNS = ["configuration", "request", "buffer", "connection", "timeout", "entry", "file",
         "header", "value", "session", "record", "limit", "cache", "directory", "response"]
VERBS = ["Fix", "Add", "Refactor", "Update", "Handle", "Document", "Test", "Simplify", "Rename",
         "Remove"]

TEMPLATES = {
    "rs": [
        "    let {id} = {id}.clone();",
        "    if {id}.is_empty() {{ return Ok(()); }}",
        "    /// Returns the {noun} of this {noun}.",
        "pub fn {id}(&self, {id}: &str) -> Result<{T}, Error> {{",
        "        .map(|x| x.{id}())",
        "    assert_eq!({id}.len(), {n});",
        "        return Err(Error::{T}(format!(\"invalid {noun}: {{}}\", {id})));",
        "    }}",
        "",
    ],
    "py": [
        "def {id}(self, {id}=None):",
        "    \"\"\"Return the {noun} for the given {noun}.\"\"\"",
        "        if {id} is None:",
        "            raise ValueError(\"invalid {noun}\")",
        "        {id} = self._{id}.get(key, {n})",
        "        return [x for x in {id} if x]",
        "        logger.debug(\"%s {noun}\", {id})",
        "",
    ],
    "js": [
        "const {id} = require('./{id}');",
        "function {id}({id}, options) {{",
        "  if (!{id}) return null;",
        "  return {id}.map((x) => x.{id});",
        "}}",
        "  throw new TypeError('invalid {noun}');",
        "",
    ],
    "md": [
        "## {T}",
        "The {noun} is read from the {noun} before the {noun} is opened.",
        "- `{id}`: the {noun} to use (default: {n})",
        "",
    ],
}


def line(rng, ext):
    t = rng.choice(TEMPLATES[ext])
    return t.format(
        id=rng.choice(IDENTS), T=rng.choice(TYPES), noun=rng.choice(NOUNS), n=rng.randrange(1000)
    )


def data(text):
    raw = text.encode("utf-8")
    return b"data %d\n" % len(raw) + raw + b"\n"


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    commits = int(argv[1])
    rng = random.Random(int(argv[2]) if len(argv) > 2 else 42)
    files = {}
    for d, ext in (("src", "rs"), ("lib", "js"), ("pkg", "py"), ("docs", "md")):
        for i in range(6):
            files[f"{d}/{rng.choice(IDENTS)}_{i}.{ext}"] = [line(rng, ext) for _ in range(rng.randrange(40, 160))]
    out = sys.stdout.buffer
    t = 1_600_000_000
    for c in range(commits):
        t += rng.randrange(600, 6 * 3600)
        name, email = rng.choice(AUTHORS)
        touched = {}
        if rng.random() < 0.05 or c == 0:
            ext = rng.choice(list(TEMPLATES))
            d = {"rs": "src", "js": "lib", "py": "pkg", "md": "docs"}[ext]
            path = f"{d}/{rng.choice(IDENTS)}_{c}.{ext}"
            files[path] = [line(rng, ext) for _ in range(rng.randrange(10, 80))]
            touched[path] = files[path]
        for path in rng.sample(sorted(files), rng.randint(1, 3)):
            ext = path.rsplit(".", 1)[1]
            body = files[path]
            for _ in range(rng.randint(1, 4)):
                at = rng.randrange(len(body) + 1)
                op = rng.random()
                if op < 0.5 and at < len(body):
                    body[at] = line(rng, ext)
                elif op < 0.85 or not body:
                    body[at:at] = [line(rng, ext) for _ in range(rng.randint(1, 6))]
                elif at < len(body):
                    del body[at:at + rng.randint(1, 3)]
            touched[path] = body
        subject = f"{rng.choice(VERBS)} {rng.choice(NOUNS)} handling in {rng.choice(IDENTS)}"
        msg = f"{subject}\n\nThe {rng.choice(NOUNS)} was not {rng.choice(['checked', 'closed', 'cached', 'logged'])} when the {rng.choice(NOUNS)} changed.\n"
        out.write(b"commit refs/heads/main\n")
        out.write(b"mark :%d\n" % (c + 1))
        ident = f"{name} <{email}> {t} +0000".encode("utf-8")
        out.write(b"author " + ident + b"\n")
        out.write(b"committer " + ident + b"\n")
        out.write(data(msg))
        if c > 0:
            out.write(b"from :%d\n" % c)
        for path in sorted(touched):
            out.write(f"M 100644 inline {path}\n".encode("utf-8"))
            out.write(data("\n".join(touched[path]) + "\n"))
        out.write(b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
