"""Starts a data-parallel job and fails one of its ranks mid-run (test/e2e/ddp-fault.test):
fault-rank.py --signal KILL|STOP --rank R --after-step N --dir DIR -- mpirun ARGS -- PROGRAM ARGS

Runs `mpirun ARGS sh -c 'echo $$ > DIR/pid.RANK; exec PROGRAM ARGS'`, so every rank's
pid is known; once rank 0's output (DIR/job.out) shows step N, sends SIGKILL or SIGSTOP
to rank R, then waits for mpirun (at most 60 s). Prints whether the job ended within
30 s of the signal and with a non-zero status; mpirun's and the ranks' output, stdout
then stderr, is in DIR/job.out and DIR/job.err."""
import argparse
import os
import re
import signal
import subprocess
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--signal", choices=["KILL", "STOP"], required=True)
    p.add_argument("--rank", type=int, default=1)
    p.add_argument("--after-step", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    args = p.parse_args()
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    split = rest.index("--")
    launcher, program = rest[:split], rest[split + 1:]
    rank_var = "${OMPI_COMM_WORLD_RANK:-$PMIX_RANK}"
    script = f'echo $$ > {args.dir}/pid.{rank_var}; exec "$@"'
    command = launcher + ["sh", "-c", script, "sh"] + program
    out_path, err_path = os.path.join(args.dir, "job.out"), os.path.join(args.dir, "job.err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        job = subprocess.Popen(command, stdout=out, stderr=err)
        pattern = re.compile(rf"^step +{args.after_step}/", re.M)
        deadline = time.time() + 60
        while time.time() < deadline and job.poll() is None:
            with open(out_path) as f:
                if pattern.search(f.read()):
                    break
            time.sleep(0.05)
        if job.poll() is not None:
            print(f"the job ended before step {args.after_step} (status {job.returncode})")
            sys.exit(1)
        with open(os.path.join(args.dir, f"pid.{args.rank}")) as f:
            pid = int(f.read())
        os.kill(pid, signal.SIGKILL if args.signal == "KILL" else signal.SIGSTOP)
        signalled = time.time()
        try:
            status = job.wait(timeout=60)
        except subprocess.TimeoutExpired:
            job.kill()
            os.kill(pid, signal.SIGKILL)
            status = job.wait()
        took = time.time() - signalled
    print(f"sent SIG{args.signal} to rank {args.rank} after step {args.after_step}")
    print(f"job ended within 30 s: {'yes' if took < 30 else 'no'}")
    print(f"job failed: {'yes' if status != 0 else 'no'}")
    print(f"took {took:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
