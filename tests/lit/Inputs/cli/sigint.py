# Usage: sigint.py TMPDIR LOOM ARGS...: runs loom with $TMPDIR set and a
# compiler that takes 30 s, sends SIGINT to its process group (as Ctrl-C
# does) once the build folder exists, and checks that loom died of SIGINT
# and left TMPDIR empty.
import os
import signal
import subprocess
import sys
import time

tmp = sys.argv[1]
os.makedirs(tmp, exist_ok=True)
here = os.path.dirname(os.path.abspath(__file__))
env = dict(os.environ, TMPDIR=tmp, CC="sh %s/cc_slow.sh 30" % here)
proc = subprocess.Popen(sys.argv[2:], env=env, start_new_session=True)
deadline = time.time() + 60
while not os.listdir(tmp) and time.time() < deadline:
    time.sleep(0.05)
time.sleep(0.5)  # into the compiler run
os.killpg(proc.pid, signal.SIGINT)
rc = proc.wait()
left = os.listdir(tmp)
print("exit %d, left in TMPDIR: %s" % (rc, left or "nothing"))
sys.exit(0 if rc == -signal.SIGINT and not left else 1)
