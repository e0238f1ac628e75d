# Usage: every_op.py OPS_H TEST: fails, naming them, when ops of the IR op
# table (the X(ENUM, "Name", ...) lines of ir/ir_ops.h) have no node in
# TEST ("= Name(" in a graph), so a test meant to cover every op keeps
# doing so as ops are added.
import re
import sys

ops = re.findall(r'^\s*X\([A-Z_0-9]+, "([A-Za-z]+)"', open(sys.argv[1]).read(), re.M)
text = open(sys.argv[2]).read()
missing = [op for op in ops if not re.search(r"= %s\(" % op, text)]
if not ops or missing:
    sys.exit("every_op.py: %s has no case for: %s" % (sys.argv[2], " ".join(missing) or "(no ops)"))
