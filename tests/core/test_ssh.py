"""The city-server deployment over a real SSH login (README "Running a city server").

The test starts its own ``sshd`` on a loopback port (own config and host key
in a temp folder), creates OS accounts with ``useradd``, and logs in with
``ssh`` using a key.  The account's ``ForceCommand`` runs the session wrapper
through a sudoers rule that allows only that wrapper as the service account;
the app must see the staff account as the user (SUDO_USER checked against the
real sudo process), refuse an account with no user record, and refuse options
the wrapper does not allow.

The service account here is ``root`` (its system config bound over /etc/dangjian in a private
mount namespace) so that the test needs no world-readable
Python installation; on a real server it is an unprivileged ``dangjian``
account (README).  Skips where sshd, ssh, sudo or root are missing.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from tests import server_env

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="starting sshd and creating accounts needs root"),
    pytest.mark.skipif(not SSHD, reason="sshd not installed (Debian: openssh-server; .ci/run installs it)"),
    pytest.mark.skipif(not shutil.which("ssh") or not shutil.which("ssh-keygen"), reason="ssh client not installed"),
    pytest.mark.skipif(not shutil.which("sudo"), reason="sudo not installed"),
    pytest.mark.skipif(not server_env.NAMESPACES, reason=server_env.WHY_NOT),
]

def _wrapper(dangjian: str) -> str:
    """The session wrapper of README "Running a city server", verbatim but for the program's path."""
    from tests.core.test_server import readme_wrapper

    return readme_wrapper().replace("/opt/dangjian/bin/dangjian", dangjian)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """sshd on 127.0.0.1:PORT, accounts staff (admin), clerk (community), stranger (no user record)."""
    folder = Path(tempfile.mkdtemp(prefix="dj_ssh_"))
    os.chmod(folder, 0o755)
    tag = uuid.uuid4().hex[:6]
    users = {"staff": f"djst{tag}", "clerk": f"djcl{tag}", "stranger": f"djxx{tag}"}
    made, sudoers, sshd = [], None, None
    try:
        for login in users.values():
            subprocess.run(["useradd", "-M", "-d", "/tmp", "-s", "/bin/sh", "-p", "*", login], check=True)
            made.append(login)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / "host_key")], check=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / "client_key")], check=True)
        keys = folder / "keys"
        keys.mkdir(mode=0o755)
        pub = (folder / "client_key.pub").read_text()
        for login in users.values():
            (keys / login).write_text(pub)
            os.chmod(keys / login, 0o644)
        # the database, config and wrapper, owned by the service account (root here)
        (folder / "db").mkdir(mode=0o750)
        url = f"sqlite:///{folder / 'db' / 'dangjian.db'}"
        etc = folder / "etc"
        server_env.write_system_config(etc, f'service_account = "root"\ndb = "{url}"\n')
        dangjian = shutil.which("dangjian") or str(Path(sys.executable).with_name("dangjian"))
        wrapper = folder / "dangjian-ssh"
        wrapper.write_text(_wrapper(dangjian))
        os.chmod(wrapper, 0o755)
        sudoers = Path(f"/etc/sudoers.d/dangjian_test_{tag}")
        sudoers.write_text("".join(f"{u} ALL=(root) NOPASSWD: {wrapper}\n" for u in users.values()))
        os.chmod(sudoers, 0o440)
        check = subprocess.run(["visudo", "-c", "-f", str(sudoers)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        # users: staff is admin, clerk a community user; stranger has an OS account and a key but no record
        env = dict(os.environ, DANGJIAN_DB=url, DANGJIAN_LANG="en", HOME=str(folder))
        env.pop("DANGJIAN_CONFIG", None)
        env.pop("DANGJIAN_PLUGIN_DIRS", None)
        for argv in (["init"], ["users", "add", users["staff"], "--role", "admin"]):
            p = subprocess.run([dangjian, *argv], env=env, capture_output=True, text=True)
            assert p.returncode == 0, p.stderr
        _community(env, dangjian)
        p = subprocess.run([dangjian, "users", "add", users["clerk"], "--role", "community", "--scope", "S1"],
                           env=env, capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        port = _free_port()
        (folder / "sshd_config").write_text(f"""
Port {port}
ListenAddress 127.0.0.1
HostKey {folder / 'host_key'}
PidFile {folder / 'sshd.pid'}
AuthorizedKeysFile {keys}/%u
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AllowUsers {' '.join(users.values())}
X11Forwarding no
AllowTcpForwarding no
PermitTunnel no
ForceCommand sudo -n -u root {wrapper} $SSH_ORIGINAL_COMMAND
LogLevel ERROR
""")
        mountpoint = server_env.etc_mountpoint()
        mountpoint.__enter__()
        # sshd (and so every session) runs where /etc/dangjian is this test's system config
        sshd = subprocess.Popen(server_env.in_namespace(etc, [SSHD, "-D", "-e", "-f", str(folder / "sshd_config")]),
                                stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if sshd.poll() is not None:
                    pytest.fail(f"sshd did not start: {sshd.stderr.read()}")
                time.sleep(0.1)
        yield {"port": port, "users": users, "key": folder / "client_key", "url": url, "env": env,
               "dangjian": dangjian}
    finally:
        if sshd is not None:
            sshd.terminate()
            try:
                sshd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sshd.kill()
        if sudoers is not None and sudoers.exists():
            sudoers.unlink()
        if sshd is not None:
            mountpoint.__exit__(None, None, None)
        for login in made:
            subprocess.run(["userdel", "-f", login], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _community(env, dangjian):
    code = ("from core import db, access; from core.models import Town, Community; db.connect(); "
            "t = Town.create(name='测试镇'); Community.create(code='S1', name='一社区', town=t)")
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def ssh(server, who: str, *command: str, tty: bool = False, timeout: float = 60):
    cmd = ["ssh", "-i", str(server["key"]), "-p", str(server["port"]), "-o", "StrictHostKeyChecking=no",
           "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
           "-o", "IdentitiesOnly=yes"]
    cmd += ["-tt"] if tty else ["-T"]
    cmd += ["--", f"{server['users'][who]}@127.0.0.1", *command]
    env = dict(os.environ, LANG="C.UTF-8")
    env.pop("DANGJIAN_DB", None)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def test_ssh_login_runs_the_app_as_the_staff_account(server):
    staff = server["users"]["staff"]
    p = ssh(server, "staff", "users", "list")
    assert p.returncode == 0, p.stderr
    assert staff in p.stdout
    assert f"{staff} · " in p.stderr  # "当前用户：LOGIN · 管理员 · 全市": the identity is the SSH account
    assert "root ·" not in p.stderr


def test_ssh_identity_and_scope_of_a_community_clerk(server):
    clerk = server["users"]["clerk"]
    p = ssh(server, "clerk", "users", "list")
    assert p.returncode == 2
    assert "只有管理员" in p.stderr  # known (not "not a user"), but not an administrator
    p = ssh(server, "clerk", "audit", "--format", "json")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"  # the admin's changes (users, town) are outside a community's scope
    assert clerk not in p.stderr or "未登记" not in p.stderr


def test_ssh_unknown_account_is_refused(server):
    stranger = server["users"]["stranger"]
    p = ssh(server, "stranger", "audit")
    assert p.returncode == 2
    assert f"账号 {stranger} 未登记为本系统用户" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr


def test_ssh_headless_commands_stream_through_stdout_and_stdin(server):
    p = ssh(server, "staff", "dangjian", "export", "communities", "-")
    assert p.returncode == 0 and "S1" in p.stdout, p.stderr
    p = ssh(server, "staff", "check", "--format", "csv")
    assert p.returncode in (0, 1) and "Traceback" not in p.stderr


def test_ssh_wrapper_refuses_dangerous_options(server):
    for command in (["check", "--output", "/tmp/x"], ["users", "add", "someone", "--role", "admin"],
                    ["check", "--outp", "/tmp/x"], ["export", "members", "/tmp/x.xlsx"],
                    ["backup", "/tmp/x.db"], ["--db", "sqlite:////tmp/other.db", "check"],
                    ["import", "members", "/etc/passwd"]):
        p = ssh(server, "staff", *command)
        assert p.returncode == 2, (command, p.stdout, p.stderr)
        # the wrapper's allow-list, or the program itself (no abbreviated options, no paths)
        assert ("not allowed over SSH" in p.stderr or "unrecognized arguments: --outp" in p.stderr
                    or "无法识别的参数：--outp" in p.stderr), (command, p.stderr)
    assert not os.path.exists("/tmp/other.db")


def test_ssh_tui_starts_as_the_staff_account(server):
    """The terminal app over ``ssh -tt``: it draws, and says whose session it is (skips if the UI is a stub)."""
    from tests.core.test_idle import tui_is_real

    if not tui_is_real():
        pytest.skip("tui/app.py is still the placeholder")
    staff = server["users"]["staff"]
    cmd = ["ssh", "-tt", "-i", str(server["key"]), "-p", str(server["port"]), "-o", "StrictHostKeyChecking=no",
           "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
           f"{staff}@127.0.0.1"]
    from tests.core.test_idle import run_in_pty

    out = run_in_pty(cmd, seconds=8, env=dict(os.environ, TERM="xterm-256color", LANG="C.UTF-8"))
    assert staff in out, out[-2000:]
