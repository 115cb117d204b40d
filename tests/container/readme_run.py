#!/usr/bin/env python3
"""Runs the README's examples as written, in order, and checks what they print.

Every `$ ` line of every ```console block of README.md is run, literally, in
one bash session started in the repository's top directory (so `export`,
`cd` and background jobs carry over from one command to the next, as they
would in a reader's terminal). The lines a block shows under a command are
what it must print: each must appear in its output, in order, exactly, where
`...` stands for text that varies (container ids, addresses, timings). A
command must exit 0 unless a directive says otherwise; a command ending in
`&` runs in the background, and the runner waits for the lines shown under
it before going on; after a `docker compose ... up` it waits, as a reader
would, for what that started to be ready (healthy containers, the front
service answering, the load balancer spreading over every replica, UDP when
asked for).

Directives, HTML comments in the README's source (a reader never sees them):
  <!-- readme: not run: REASON -->     the next console block is not run (REASON is required)
  <!-- readme: input: ["a", "b"] -->   the next command reads these lines on its standard input
                                       (the README shows them in the transcript; they are not output)
  <!-- readme: exit: N -->             the next command exits N
  <!-- readme: run: COMMAND -->        a command the runner runs at this point, unseen (none so far)

Exit status 0 when every command ran and printed what the README shows, 1
otherwise (each failure is printed with what the command printed). At the
end the Compose services the README started are taken down (containers and
volumes; images stay). Traffic: loopback and the project's own containers.
"""
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time

COMMAND_TIMEOUT_S = 300  # a command's bound (the first one builds the server)
DIRECTIVE = re.compile(r"<!--\s*readme:\s*(not run|input|exit|run):\s*(.*?)\s*-->", re.S)
FENCE = re.compile(r"^( *)```console\s*$")


def blocks(readme):
    """Yields ('directive', kind, value) and ('block', [lines]) in document order."""
    lines = readme.split("\n")
    i = 0
    text_since = []
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            text_since.append(lines[i])
            i += 1
            continue
        for d in DIRECTIVE.finditer("\n".join(text_since)):
            yield ("directive", d.group(1), d.group(2))
        text_since = []
        indent = len(m.group(1))
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith("```"):
            body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
            i += 1
        i += 1
        yield ("block", body)
    for d in DIRECTIVE.finditer("\n".join(text_since)):
        yield ("directive", d.group(1), d.group(2))


def matches(expected, line):
    """`...` in an expected line stands for any text."""
    pattern = "^" + ".*".join(re.escape(part) for part in expected.strip().split("...")) + "$"
    return re.match(pattern, line.strip()) is not None


def compose_command():
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return ["docker-compose"]


def settle(command, root):
    """After a `compose ... up`: waits, at most 90 s, for what a reader waits
    for before the next command (Compose returns once containers start):
    every container with a health check healthy; the front service's echo,
    the load balancer's spread over every replica, UDP when it was asked for.
    True when all came."""
    client = os.path.join(root, "build", "release", "client", "echo-client")
    compose = compose_command()

    def ids(service=None):
        out = subprocess.run(compose + ["ps", "-q"] + ([service] if service else []), capture_output=True,
                             text=True).stdout
        return [i for i in out.split() if i]

    def healthy():
        for i in ids():
            state = subprocess.run(["docker", "inspect", "-f",
                                    "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}", i],
                                   capture_output=True, text=True).stdout.split()
            if state and state[0] == "running" and len(state) > 1 and state[1] != "healthy":
                return False
        return True

    def answers(*args):
        return subprocess.run([client, "--timeout=1"] + list(args), capture_output=True).returncode == 0

    def spread_reaches(replicas):
        out = subprocess.run([client, "--port=4570", "--spread=%d" % (10 * replicas), "--json"],
                             capture_output=True, text=True).stdout
        try:
            result = json.loads(out)
        except ValueError:
            return False
        return result["answered"] == result["connections"] and len(result["replicas"]) >= replicas

    deadline = time.time() + 90
    while time.time() < deadline:
        replicas = len(ids("server"))
        if (healthy() and (not ids("front") or answers("--check", "--port=4567")) and
                (not ids("lb") or spread_reaches(replicas)) and
                ("ECHO_UDP_PORT" not in command or answers("--udp", "--check", "--port=4567"))):
            return True
        time.sleep(0.5)
    return False


def missing_lines(expected, output):
    """The expected lines not found, in order, in `output`."""
    out = output.split("\n")
    at = 0
    missing = []
    for want in expected:
        found = next((k for k in range(at, len(out)) if matches(want, out[k])), None)
        if found is None:
            missing.append(want)
        else:
            at = found + 1
    return missing


class Shell:
    """One bash session: commands run in it one after the other."""

    def __init__(self, env):
        self._proc = subprocess.Popen(["bash", "--noprofile", "--norc"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        self._seq = 0

    def run(self, command, stdin_path, timeout):
        self._seq += 1
        marker = f"__readme_done_{self._seq}__"
        # The command exactly as written (on a line of its own: a trailing comment
        # ends there), its input from a file, then the marker with its status.
        script = f"{{\n{command}\n}} < {stdin_path}\n__status=$?; echo; echo {marker} $__status\n"
        self._proc.stdin.write(script.encode())
        self._proc.stdin.flush()
        out = b""
        deadline = time.time() + timeout
        while marker.encode() not in out:
            left = deadline - time.time()
            if left <= 0:
                return out.decode(errors="replace"), None
            ready, _, _ = select.select([self._proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self._proc.stdout.fileno(), 65536)
                if not chunk:
                    return out.decode(errors="replace"), None
                out += chunk
        text = out.decode(errors="replace")
        before, _, after = text.rpartition(marker)
        status = int(after.split()[0])
        return before.rstrip("\n"), status

    def close(self):
        try:
            self._proc.stdin.write(b"kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; exit 0\n")
            self._proc.stdin.flush()
            self._proc.wait(timeout=60)
        except (BrokenPipeError, subprocess.TimeoutExpired):
            self._proc.kill()


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.chdir(root)
    with open("README.md", encoding="utf-8") as f:
        readme = f.read()
    work = tempfile.mkdtemp(prefix="echod-readme-")
    # The README's own Compose project (the directory's name), on its defaults.
    for name in list(os.environ):
        if name.startswith("ECHO_") or name == "COMPOSE_PROJECT_NAME":
            os.environ.pop(name)
    env = dict(os.environ)
    shell = Shell(env)
    failures = 0
    commands = 0
    pending = {}
    skip_next_block = None
    background = 0
    try:
        for item in blocks(readme):
            if item[0] == "directive":
                kind, value = item[1], item[2]
                if kind == "not run":
                    if not value:
                        print("FAIL  a 'not run' directive without a reason")
                        failures += 1
                    skip_next_block = value
                elif kind == "run":
                    out, status = shell.run(value, "/dev/null", COMMAND_TIMEOUT_S)
                    if status != 0:
                        print(f"FAIL  (directive) {value}: exit {status}\n{out}")
                        failures += 1
                else:
                    pending[kind] = value
                continue
            body = item[1]
            if skip_next_block is not None:
                shown = [line[2:] for line in body if line.startswith("$ ")]
                print(f"skip  {len(shown)} command(s), not run: {skip_next_block}")
                skip_next_block = None
                continue
            # Commands and what each shows under it.
            steps = []
            for line in body:
                if line.startswith("$ "):
                    steps.append({"command": line[2:], "shown": [], "input": None, "exit": 0})
                elif steps and line.strip():
                    steps[-1]["shown"].append(line)
            # Directives before the block apply to its first command that takes them.
            # (input: the first whose transcript shows every input line).
            for step in steps:
                if "input" in pending:
                    lines = json.loads(pending["input"])
                    if all(line in step["shown"] for line in lines):
                        step["input"] = lines
                        del pending["input"]
                if "exit" in pending:
                    step["exit"] = int(pending.pop("exit"))
            for step in steps:
                commands += 1
                command = step["command"]
                shown = list(step["shown"])
                stdin_path = "/dev/null"
                if step["input"]:
                    stdin_path = os.path.join(work, f"input{commands}")
                    with open(stdin_path, "w", encoding="utf-8") as f:
                        f.write("".join(line + "\n" for line in step["input"]))
                    for line in step["input"]:
                        if line in shown:
                            shown.remove(line)
                stripped = re.sub(r"\s+#[^'\"]*$", "", command).rstrip()
                if stripped.endswith("&"):
                    background += 1
                    log = os.path.join(work, f"background{background}.log")
                    out, status = shell.run(f"{stripped[:-1].rstrip()} >{log} 2>&1 &", "/dev/null", 30)
                    deadline = time.time() + COMMAND_TIMEOUT_S
                    missing = shown
                    while missing and time.time() < deadline:
                        time.sleep(0.5)
                        with open(log, encoding="utf-8", errors="replace") as f:
                            missing = missing_lines(shown, f.read())
                    if missing:
                        with open(log, encoding="utf-8", errors="replace") as f:
                            print(f"FAIL  $ {command}\n      never printed: {missing}\n{f.read()[-3000:]}")
                        failures += 1
                    else:
                        print(f"ok    $ {command}")
                    continue
                start = time.time()
                out, status = shell.run(command, stdin_path, COMMAND_TIMEOUT_S)
                took = time.time() - start
                problems = []
                if status is None:
                    problems.append(f"no end within {COMMAND_TIMEOUT_S} s")
                elif status != step["exit"]:
                    problems.append(f"exit {status}, the README expects {step['exit']}")
                missing = missing_lines(shown, out)
                if missing:
                    problems.append(f"did not print {missing}")
                if problems:
                    failures += 1
                    print(f"FAIL  $ {command}\n      {'; '.join(problems)}\n" +
                          "\n".join("      | " + line for line in out.split("\n")[-40:]))
                else:
                    print(f"ok    $ {command}  ({took:.1f} s)")
                if status == 0 and re.search(r"compose\b.*\bup\b", stripped) and not settle(stripped, root):
                    failures += 1
                    print(f"FAIL  $ {command}\n      what it started was not ready within 90 s")
    finally:
        shell.close()
        subprocess.run(compose_command() + ["--profile", "load", "--profile", "lb", "--profile", "monitoring", "down", "--volumes",
                               "--remove-orphans"], capture_output=True, env=env)
        for leftover in ("ca.pem", "client.pem", "client.key"):
            if os.path.exists(leftover) and subprocess.run(["git", "ls-files", "--error-unmatch", leftover],
                                                           capture_output=True).returncode != 0:
                os.remove(leftover)
    print(f"README: {commands} command(s) run, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
