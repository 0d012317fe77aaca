"""lint_fleet.py - the static checks of deploy/ansible, for what cannot run
here (the Windows branch) as much as for what can:

  - ansible-playbook --syntax-check site.yml
  - ansible-lint --offline (Debian's package; production profile, 0 warnings)
  - every ansible.windows task: its module is in the installed collection and
    its arguments are ones the module documents (ansible-lint cannot load
    PowerShell modules to check them), with the required ones present
  - the role's Windows defaults render as a Windows host needs them (binary
    path, argument lists)
  - inventory.example.yml parses as an inventory with its WinRM settings

Quiet on success. Exit 77 (skip) when ansible-playbook is not installed, and
after the other checks when ansible-lint is not (cmake/dev.sh test installs
both).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
DEPLOY = os.path.normpath(os.path.join(HERE, "..", "..", "deploy", "ansible"))
TASKS = os.path.join(DEPLOY, "roles", "tmi_console", "tasks")

_failures = []


def check(cond, what):
    if not cond:
        _failures.append(what)
    return bool(cond)


def run(cmd, env, cwd=DEPLOY):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=env, cwd=cwd, timeout=300)


def tasks_of(items):
    """Every task in a task list, blocks opened (block, rescue, always)."""
    for t in items or []:
        if not isinstance(t, dict):
            continue
        if "block" in t:
            for part in ("block", "rescue", "always"):
                yield from tasks_of(t.get(part))
        else:
            yield t


def windows_tasks():
    out = []
    for name in sorted(os.listdir(TASKS)):
        with open(os.path.join(TASKS, name)) as fh:
            for t in tasks_of(yaml.safe_load(fh)):
                for key, args in t.items():
                    if key.startswith("ansible.windows."):
                        out.append((name, t.get("name"), key, args))
    return out


def check_windows_args(env):
    found = windows_tasks()
    modules = sorted({m for _f, _n, m, _a in found})
    check({"ansible.windows.win_command", "ansible.windows.win_copy"} <= set(modules),
          "the Windows branch uses %r" % modules)
    r = subprocess.run(["ansible-doc", "-j"] + modules, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=env, timeout=120)
    if not check(r.returncode == 0, "ansible-doc %s: %s" % (modules, r.stderr)):
        return
    docs = json.loads(r.stdout)
    for f, name, module, args in found:
        doc = (docs.get(module) or {}).get("doc")
        if not check(doc is not None, "%s: %s is not in the installed collection" % (f, module)):
            continue
        options = doc.get("options") or {}
        check(isinstance(args, dict), "%s: %r: arguments of %s are not a mapping" % (f, name, module))
        unknown = sorted(set(args or {}) - set(options))
        check(not unknown, "%s: %r: %s has no option %s" % (f, name, module, unknown))
        missing = sorted(k for k, o in options.items() if o.get("required") and k not in (args or {}))
        check(not missing, "%s: %r: %s needs %s" % (f, name, module, missing))


# the host's values come as extra vars (above the role's files); the expected
# ones are plain YAML strings (a backslash inside a Jinja test would be an
# escape)
WINDOWS_RENDER = """---
- name: Render the role's values for a Windows host
  hosts: localhost
  gather_facts: false
  vars_files:
    - {defaults}
    - {vars}
  vars:
    want_bin: 'C:\\Program Files\\tmi-console\\tmi-console.exe'
    want_dir: 'C:\\Program Files\\tmi-console'
    want_data: 'D:\\tmi data'
  tasks:
    - name: Check them
      ansible.builtin.assert:
        that:
          - tmi_console_bin == want_bin
          - (tmi_console_bin | win_dirname) == want_dir
          - tmi_global_args == ['--data', want_data]
          - tmi_root_args == []
          - tmi_fleet_mode == 'repair'
"""
WINDOWS_HOST = {"tmi_windows": True, "tmi_data": "D:\\tmi data",
                "tmi_repair": "true"}


def check_windows_render(env, work):
    role = os.path.join(DEPLOY, "roles", "tmi_console")
    pb = os.path.join(work, "render.yml")
    with open(pb, "w") as fh:
        fh.write(WINDOWS_RENDER.format(defaults=os.path.join(role, "defaults", "main.yml"),
                                       vars=os.path.join(role, "vars", "main.yml")))
    r = run(["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", json.dumps(WINDOWS_HOST),
             pb], env, cwd=work)
    check(r.returncode == 0, "the Windows values of the role:\n%s" % r.stdout)


def check_inventory(env):
    r = subprocess.run(["ansible-inventory", "-i", "inventory.example.yml", "--list"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                       cwd=DEPLOY, timeout=120)
    if not check(r.returncode == 0 and not r.stderr.strip(),
                 "inventory.example.yml: %s" % r.stderr):
        return
    inv = json.loads(r.stdout)
    hosts = inv.get("tmcm", {}).get("hosts", [])
    hv = inv.get("_meta", {}).get("hostvars", {})
    check(len(hosts) == 3 and all(hv[h].get("ansible_connection") == "winrm" and
                                  hv[h].get("tmi_console_bin", "").endswith(".exe")
                                  for h in hosts), "inventory.example.yml: %r" % hv)


def main():
    if shutil.which("ansible-playbook") is None:
        print("ansible-playbook is not installed (cmake/dev.sh test installs it)")
        return 77
    work = tempfile.mkdtemp(prefix="fleet-lint-", dir=os.environ.get("TMI_TEST_TMP") or None)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", NO_COLOR="1",
               ANSIBLE_HOME=os.path.join(work, "ansible-home"),
               ANSIBLE_LOCAL_TEMP=os.path.join(work, "ansible-tmp"),
               XDG_CACHE_HOME=os.path.join(work, "cache"))
    cfg = os.path.join(work, "ansible.cfg")
    with open(cfg, "w") as fh:
        fh.write("[defaults]\n")
    env["ANSIBLE_CONFIG"] = cfg
    lint = shutil.which("ansible-lint")
    try:
        r = run(["ansible-playbook", "-i", "localhost,", "--syntax-check", "site.yml"], env)
        check(r.returncode == 0, "ansible-playbook --syntax-check site.yml:\n%s" % r.stdout)
        check_windows_args(env)
        check_windows_render(env, work)
        check_inventory(env)
        if lint:
            r = run([lint, "--offline", "--profile", "production", "--strict", "-p",
                     "site.yml", "inventory.example.yml", "roles/tmi_console"], env)
            check(r.returncode == 0, "ansible-lint:\n%s" % r.stdout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if _failures:
        sys.stderr.write("lint_fleet: %d check(s) failed:\n" % len(_failures))
        for f in _failures:
            sys.stderr.write("  - %s\n" % f)
        return 1
    if not lint:
        print("ansible-lint is not installed: syntax and module checks only")
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
