# Usage: check_options.py LOOM DOCS_CLI_MD: checks that each command's usage
# text (loom help CMD) and its synopsis in docs/cli.md list the same
# options, that loom accepts every option its usage lists, and that it
# rejects (exit 2, "does not take") every option only other commands list.
# -o and --output are one option (docs/cli.md), compared as "-o".
import re
import subprocess
import sys

loom, docs = sys.argv[1], sys.argv[2]
COMMANDS = ["inspect", "run", "convert", "compile", "bench"]
OPT = re.compile(r"(?<![\w-])(--[a-z][a-z-]*|-o)\b")


def norm(opts):
    return {"-o" if o == "--output" else o for o in opts}


def help_options(cmd):
    text = subprocess.run([loom, "help", cmd], capture_output=True, text=True).stdout
    usage = []
    for line in text.splitlines():  # the usage lines: up to the first prose line
        if line.startswith("usage:") or (usage and line.startswith(" ")):
            usage.append(line)
        elif usage:
            break
    return norm(OPT.findall("\n".join(usage)))


def doc_options(cmd):
    block = open(docs).read().split("```")[1]
    lines, load = [], set()
    for line in block.splitlines():
        if line.startswith("loom %s " % cmd) or (lines and line.startswith(" ") and
                                                 not lines[-1].startswith("LOAD")):
            if line.startswith("loom ") and lines and not line.startswith("loom %s " % cmd):
                break
            lines.append(line)
        elif lines and not line.startswith(" "):
            break
    load_line = [l for l in block.splitlines() if l.strip().startswith("[--dim")]
    load = norm(OPT.findall(load_line[0])) if load_line else set()
    opt_line = [l for l in block.splitlines() if l.strip().startswith("[-O0")]
    passes = norm(OPT.findall(opt_line[0])) if opt_line else set()
    opts = norm(OPT.findall("\n".join(lines)))
    if any("[OPT]" in l for l in lines):
        opts |= passes
    return opts | load if any("[LOAD]" in l for l in lines) else opts


def run(cmd, opt):
    args = [loom, cmd, "/nonexistent/m.json", opt]
    if opt not in ("--summary-only", "--standalone", "--json", "--inline-weights") and \
            not (cmd == "inspect" and opt == "--weights"):
        args.append("x=y.npy")
    p = subprocess.run(args, capture_output=True, text=True)
    return p.returncode, p.stderr


failed = False
per_cmd = {c: help_options(c) for c in COMMANDS}
every = set().union(*per_cmd.values())
for cmd in COMMANDS:
    doc = doc_options(cmd)
    if doc != per_cmd[cmd]:
        print("%s: usage lists %s, docs/cli.md lists %s" % (cmd, sorted(per_cmd[cmd]), sorted(doc)))
        failed = True
    for opt in sorted(every | {"--output"}):
        rc, err = run(cmd, opt)
        listed = norm([opt]) <= per_cmd[cmd]
        rejected = "does not take" in err or "unknown option" in err
        if listed and rejected:
            print("%s: usage lists %s but loom rejects it: %s" % (cmd, opt, err.splitlines()[0]))
            failed = True
        if not listed and not (rejected and rc == 2):
            print("%s: %s is not in its usage but loom accepts it (exit %d)" % (cmd, opt, rc))
            failed = True
    print("%s: %s" % (cmd, " ".join(sorted(per_cmd[cmd]))))
sys.exit(1 if failed else 0)
