"""Timing `git push`es to slipway, shared by bench/swap and bench/redeploy.

A push's output is recorded with the time each line arrived; the daemon's own measures of
each activation come from the app log. `steps` splits a push into where its time went:
git until the hook starts, the build (up to the buildpacks' work, the buildpacks, the
slug), the hand-over to the daemon, unpacking, starting, the health check, the router
switch, and what follows until git exits.
"""

import re
import subprocess
import time

STEPS = ("git until the hook starts", "export and detect", "buildpacks (compile)",
         "pack the slug", "release record, hand-over", "unpack", "start processes",
         "health check", "router switch", "after launch, git exit", "git push in all")


def timed_push(app_dir, remote, branch="main"):
    """Runs `git push`; returns (start_ns, [(ns, line)], exit status)."""
    start = time.time_ns()
    push = subprocess.Popen(["git", "-C", app_dir, "push", remote, branch],
                            stderr=subprocess.STDOUT, stdout=subprocess.PIPE, text=True)
    lines = [(time.time_ns(), line.rstrip("\n")) for line in push.stdout]
    status = push.wait()
    return start, lines + [(time.time_ns(), "EXIT")], status


def daemon_measures(log_file):
    """{version: [unpack, start, health, switch] in seconds} from the app log."""
    measured = {}
    for line in open(log_file):
        m = re.search(r"to v(\d+) .*unpacked in (\d+) ms, started in (\d+) ms, "
                      r"healthy after (\d+) ms, switched in (\d+) ms", line)
        if m:
            measured[int(m[1])] = [int(x) / 1000 for x in m.groups()[1:]]
    return measured


def _first(lines, pattern):
    return next((t for t, text in lines if re.search(pattern, text)), None)


def version_launched(lines):
    m = re.search(r"Launching v(\d+)", next((x for _, x in lines if "Launching v" in x), ""))
    return int(m[1]) if m else None


def steps(start, lines, measured):
    """{step: seconds} for one push, or None when its output lacks a marker."""
    hook = _first(lines, r"remote: -----> Building ")
    # The first buildpack's own step follows the "-----> NAME app detected" line.
    detected = _first(lines, r"remote: -----> .* app detected")
    compiled = _first(lines, r"remote: -----> Discovering process types")
    packed = _first(lines, r"Compressing slug\.\.\. done")
    launched = _first(lines, r"-----> Launching v")
    done = _first(lines, r"^EXIT$")
    version = version_launched(lines)
    daemon = measured.get(version) if version else None
    if None in (hook, detected, compiled, packed, launched, done) or daemon is None:
        return None
    s = lambda a, b: (b - a) / 1e9
    result = {
        "git until the hook starts": s(start, hook),
        "export and detect": s(hook, detected),
        "buildpacks (compile)": s(detected, compiled),
        "pack the slug": s(compiled, packed),
        "release record, hand-over": s(packed, launched) - sum(daemon),
    }
    for name, value in zip(("unpack", "start processes", "health check", "router switch"),
                           daemon):
        result[name] = value
    result["after launch, git exit"] = s(launched, done)
    result["git push in all"] = s(start, done)
    return result
