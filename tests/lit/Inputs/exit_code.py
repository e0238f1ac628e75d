# Usage: exit_code.py N CMD ARGS...: runs CMD, passes its output through, and
# succeeds only if CMD exits with status N (lit's `not` accepts any failure).
import subprocess
import sys

want = int(sys.argv[1])
proc = subprocess.run(sys.argv[2:])
if proc.returncode != want:
    sys.stderr.write("exit_code.py: %s exited with %d, expected %d\n"
                     % (sys.argv[2], proc.returncode, want))
    sys.exit(1)
