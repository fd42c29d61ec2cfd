# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The network tests run real servers and a real proxy, on 127.0.0.1 only.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import datetime
import errno
import json
import os
import select
import shutil
import socket
import socketserver
import ssl
import stat
import subprocess
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.virinco.pywats.plugins.modules import pywats_preflight as pf
from ansible_collections.virinco.pywats.tests.unit.plugins.modules import utils as harness
from ansible_collections.virinco.pywats.tests.unit.plugins.modules.utils import (
    AnsibleExitJson, AnsibleFailJson, SEEN_NO_LOG, module_args)

LOOPBACK = '127.0.0.1'
TOKEN = 'c2VjcmV0LXRva2VuLTQy'


# --- harness: exit_json / fail_json raise, module args patched -------------------------------

@pytest.fixture(autouse=True)
def patch_exits(monkeypatch):
    harness.patch_exits(monkeypatch)


class FakeHost(pf.Host):
    """A healthy systemd station: fakes the kernel's files and syscalls, keeps real subprocesses and sockets."""

    def __init__(self):
        pf.Host.__init__(self, None)
        self.environ = {}
        self.euid = 0
        self.dirs = {'/run/systemd/system'}
        self.files = {'/proc/1/comm': 'systemd\n',
                      '/proc/sys/fs/inotify/max_user_watches': '524288\n',
                      '/proc/sys/fs/inotify/max_user_instances': '512\n'}
        self.libc = '2.36'
        self.arch = 'x86_64'
        self.enforcing = None
        self.bound = []

    def attach(self, module):
        self.module = module
        return self

    def geteuid(self):
        return self.euid

    def isdir(self, path):
        return path in self.dirs

    def read(self, path):
        return self.files.get(path)

    def glibc(self):
        return self.libc

    def architecture(self):
        return self.arch

    def getenforce(self):
        return self.enforcing

    def bind(self, port):
        self.bound.append(port)


def run_main(monkeypatch, args, host=None):
    host = host or FakeHost()
    monkeypatch.setattr(pf, 'Host', host.attach)
    with module_args(args):
        with pytest.raises((AnsibleExitJson, AnsibleFailJson)) as info:
            pf.main()
    return info.value


@pytest.fixture
def base_args(tmp_path):
    return {'python': sys.executable, 'state_dir': str(tmp_path / 'state'), 'venv_dir': str(tmp_path / 'venv'),
            'min_free_mb_state': 1, 'min_free_mb_venv': 1}


def by_name(result):
    return dict((check['name'], check) for check in result['checks'])


def fake_python(tmp_path, version):
    """An interpreter stand-in: records its arguments and LC_ALL, prints a version."""
    script = tmp_path / 'python3'
    marker = tmp_path / 'python3.seen'
    script.write_text('#!/bin/sh\nprintf "%%s|" "$LC_ALL" "$@" > %s\necho %s\n' % (marker, version))
    script.chmod(0o755)
    return str(script), marker


# --- servers on 127.0.0.1 -----------------------------------------------------------------

class ApiHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        server = self.server
        server.requests.append((self.path, dict(self.headers)))
        status, headers, body = server.reply
        time.sleep(server.delay)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def date_time_string(self, timestamp=None):
        return formatdate(time.time() + self.server.clock_offset, usegmt=True)

    def log_message(self, *args):
        pass


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context=None):
        ThreadingHTTPServer.__init__(self, (LOOPBACK, 0), ApiHandler)
        if context is not None:
            self.socket = context.wrap_socket(self.socket, server_side=True)
        self.requests = []
        self.reply = (200, {'Content-Type': 'application/json'}, b'"24.2.0"')
        self.delay = 0
        self.clock_offset = 0

    def handle_error(self, request, client_address):
        pass

    @property
    def port(self):
        return self.server_address[1]


@contextlib.contextmanager
def serving(server):
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api():
    with serving(ApiServer()) as server:
        yield server


OPENSSL_CONFIG = """[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
subjectAltName = IP:127.0.0.1
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def make_pki_with_cryptography(folder):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    import ipaddress

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(text):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name('preflight test CA')).issuer_name(name('preflight test CA'))
          .public_key(ca_key.public_key()).serial_number(1)
          .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(name(LOOPBACK)).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (folder / 'ca.pem').write_bytes(ca.public_bytes(pem))
    (folder / 'server.pem').write_bytes(leaf.public_bytes(pem) + key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def make_pki_with_openssl(folder, openssl):
    config = folder / 'openssl.cnf'
    config.write_text(OPENSSL_CONFIG)

    def run(*args):
        subprocess.run([openssl] + list(args), cwd=str(folder), check=True, capture_output=True)

    for key in ('ca.key', 'server.key'):
        run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key)
    run('req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=preflight test CA', '-days', '30',
        '-config', str(config), '-extensions', 'ca', '-out', 'ca.pem')
    run('req', '-new', '-key', 'server.key', '-subj', '/CN=%s' % LOOPBACK, '-config', str(config), '-out', 'server.csr')
    run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '2', '-days', '30',
        '-extfile', str(config), '-extensions', 'server', '-out', 'server.crt')
    (folder / 'server.pem').write_bytes((folder / 'server.crt').read_bytes() + (folder / 'server.key').read_bytes())


@pytest.fixture(scope='session')
def pki(tmp_path_factory):
    """A CA and a server certificate for 127.0.0.1, made with cryptography or else the openssl tool."""
    folder = tmp_path_factory.mktemp('pki')
    try:
        import cryptography  # noqa: F401, pylint: disable=unused-import
    except ImportError:
        openssl = shutil.which('openssl')
        if not openssl:
            pytest.skip('neither the cryptography package nor the openssl tool is available')
        make_pki_with_openssl(folder, openssl)
    else:
        make_pki_with_cryptography(folder)
    return {'ca': str(folder / 'ca.pem'), 'server': str(folder / 'server.pem')}


@pytest.fixture
def tls_api(pki):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki['server'])
    with serving(ApiServer(context)) as server:
        yield server


class ProxyHandler(socketserver.BaseRequestHandler):
    """Answers absolute-URI requests itself and tunnels CONNECT, to 127.0.0.1 only."""

    def handle(self):
        head = b''
        while b'\r\n\r\n' not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        head, rest = head.split(b'\r\n\r\n', 1)
        self.server.seen.append(head.decode('latin-1'))
        method, target = head.split(b' ')[:2]
        if method != b'CONNECT':
            body = b'"24.2.0-via-proxy"'
            self.request.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n'
                                 b'Content-Length: %d\r\n\r\n%s' % (len(body), body))
            return
        host, port = target.decode('ascii').rsplit(':', 1)
        if host != LOOPBACK or self.server.refuse:
            self.request.sendall(b'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n')
            return
        upstream = socket.create_connection((host, int(port)), timeout=5)
        self.request.sendall(b'HTTP/1.1 200 Connection established\r\n\r\n')
        if rest:
            upstream.sendall(rest)
        deadline = time.time() + 10
        with contextlib.closing(upstream):
            while time.time() < deadline:
                readable = select.select([self.request, upstream], [], [], 0.5)[0]
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    (upstream if source is self.request else self.request).sendall(data)


class Proxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        socketserver.ThreadingTCPServer.__init__(self, (LOOPBACK, 0), ProxyHandler)
        self.seen = []
        self.refuse = False

    @property
    def url(self):
        return 'http://%s:%d' % self.server_address


@pytest.fixture
def proxy():
    with serving(Proxy()) as server:
        yield server


def closed_port():
    with contextlib.closing(socket.socket()) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def point_for(url, proxy=None, environ=None, no_proxy=None):
    return pf.endpoint(url, proxy, no_proxy or [], environ or {})


# --- python ------------------------------------------------------------------------------------

def test_python_passes_with_a_new_enough_interpreter(monkeypatch, base_args):
    result = run_main(monkeypatch, base_args)
    assert isinstance(result, AnsibleExitJson)
    data = result.args[0]
    assert by_name(data)['python']['ok']
    assert data['facts']['python_version'] == '%d.%d.%d' % sys.version_info[:3]


def test_python_too_old_runs_it_with_lc_all_c_and_names_the_variable(monkeypatch, base_args, tmp_path):
    python, marker = fake_python(tmp_path, '3.9.2')
    result = run_main(monkeypatch, dict(base_args, python=python))
    assert isinstance(result, AnsibleFailJson)
    check = by_name(result.args[0])['python']
    assert not check['ok'] and check['severity'] == 'error'
    assert check['detail'] == '%s is Python 3.9.2, the client needs 3.10 or newer' % python
    assert 'pywats_client_python' in check['remedy']
    assert result.args[0]['facts']['python_version'] == '3.9.2'
    assert marker.read_text() == 'C|-c|%s|' % pf.PY_PROBE


def test_python_missing_or_not_executable(tmp_path):
    facts = {}
    missing = pf.check_python(str(tmp_path / 'nope'), '3.10', facts, run=None)
    plain = tmp_path / 'python3'
    plain.write_text('')
    plain.chmod(stat.S_IRUSR)
    not_exec = pf.check_python(str(plain), '3.10', facts, run=None, access=lambda path, mode: False)
    broken = pf.check_python(str(plain), '3.10', facts, run=lambda argv: (127, '', 'boom'),
                             access=lambda path, mode: True)
    assert missing[0] is False and missing[1].endswith('does not exist')
    assert not_exec[0] is False and not_exec[1].endswith('is not executable')
    assert broken[0] is False and 'did not report its version (rc=127): boom' in broken[1]
    assert facts == {}


def test_python_from_a_package_the_role_installs(monkeypatch, base_args, tmp_path):
    missing = str(tmp_path / 'python3.12')
    result = run_main(monkeypatch, dict(base_args, python=missing, python_package='python3.12'))
    assert isinstance(result, AnsibleExitJson)
    check = by_name(result.args[0])['python']
    assert check['ok'] and check['detail'] == (
        '%s is not installed yet: the role installs it from the package python3.12' % missing)
    assert result.args[0]['facts']['python_version'] is None


def test_python_package_does_not_excuse_an_old_interpreter(monkeypatch, base_args, tmp_path):
    python, marker = fake_python(tmp_path, '3.9.18')
    result = run_main(monkeypatch, dict(base_args, python=python, python_package='python3'))
    assert isinstance(result, AnsibleFailJson)
    assert by_name(result.args[0])['python']['detail'] == '%s is Python 3.9.18, the client needs 3.10 or newer' % python


def test_remedy_notes_are_appended_to_failed_checks_only(monkeypatch, base_args, tmp_path):
    host = FakeHost()
    host.libc = '2.28'
    python, marker = fake_python(tmp_path, '3.6.8')
    notes = {'glibc': 'RHEL 8 ships glibc 2.28: use RHEL 9.', 'python': 'RHEL 8: dnf install python3.11.',
             'inotify': 'never shown'}
    result = run_main(monkeypatch, dict(base_args, python=python, remedy_notes=notes), host)
    assert isinstance(result, AnsibleFailJson)
    checks = by_name(result.args[0])
    assert checks['glibc']['remedy'].endswith('which this collection does not test. RHEL 8 ships glibc 2.28: use RHEL 9.')
    assert checks['python']['remedy'].startswith('Install Python 3.10 or newer and set pywats_client_python to its path')
    assert checks['python']['remedy'].endswith('(for example /usr/bin/python3.11). RHEL 8: dnf install python3.11.')
    assert checks['inotify']['ok'] and checks['inotify']['remedy'] == ''
    assert 'Remedy: Install Python 3.10' in result.args[0]['msg'] and 'RHEL 8 ships glibc 2.28: use RHEL 9' in result.args[0]['msg']


# --- privileges, init system ---------------------------------------------------------------

def test_privileges():
    assert pf.check_privileges(lambda: 0)[0] is True
    ok, detail, remedy = pf.check_privileges(lambda: 1000)
    assert ok is False and detail == 'running as uid 1000, not root' and 'become: true' in remedy


def test_init_system():
    files = {'/proc/1/comm': 'systemd\n'}
    assert pf.check_init_system(lambda p: p == '/run/systemd/system', files.get)[0] is True
    no_dir = pf.check_init_system(lambda p: False, {'/proc/1/comm': 'bash\n'}.get)
    other_pid1 = pf.check_init_system(lambda p: True, {'/proc/1/comm': 'tini\n'}.get)
    assert no_dir[:2] == (False, '/run/systemd/system is missing (PID 1 is bash)')
    assert other_pid1[:2] == (False, '/run/systemd/system exists but PID 1 is tini')
    assert 'systemd' in no_dir[2]


# --- disk space ------------------------------------------------------------------------------

class StatVfs(object):
    def __init__(self, free_mb):
        self.f_bavail, self.f_frsize = free_mb * 256, 4096


def test_disk_space_on_real_paths_walks_up_to_an_existing_parent(tmp_path):
    facts = {'free_mb': {}}
    state = str(tmp_path / 'not' / 'yet' / 'there')
    assert pf.nearest_existing(state, os.path.exists) == str(tmp_path)
    ok, detail, remedy = pf.check_disk_space([('state_dir', state, 1)], facts)
    too_much = pf.check_disk_space([('state_dir', state, 10 ** 12)], facts)
    assert ok is True and str(tmp_path) in detail and remedy == ''
    assert too_much[0] is False and 'MB needed for state_dir %s' % state in too_much[1]
    assert facts['free_mb'][state] > 0


def test_disk_space_adds_up_paths_on_one_filesystem():
    existing = {'/', '/var', '/srv'}
    devices = {'/': 1, '/var': 1, '/srv': 2}
    needs = [('state_dir', '/var/lib/pywats', 200), ('venv_dir', '/opt/pywats/venv', 600),
             ('watch folder', '/srv/drop', 100)]
    facts = {'free_mb': {}}
    ok, detail, remedy = pf.check_disk_space(needs, facts, existing.__contains__,
                                             lambda path: StatVfs({1: 700, 2: 5000}[devices[path]]),
                                             devices.get)
    assert ok is False
    assert detail == ('700 MB free on the filesystem of /var, 800 MB needed for state_dir /var/lib/pywats, '
                      'venv_dir /opt/pywats/venv')
    assert facts['free_mb'] == {'/var/lib/pywats': 700, '/opt/pywats/venv': 700, '/srv/drop': 5000}
    # The thresholds behind the short filesystem, by option name; not the watch folder's.
    assert remedy == ('Free space on those filesystems, mount larger ones there, or lower the threshold in '
                      'pywats_client_preflight_min_free_mb_state (200 MB), pywats_client_preflight_min_free_mb_venv (600 MB)')


# --- server: dns, tcp, tls, api, clock --------------------------------------------------------

def test_server_checks_pass_against_a_real_http_server(monkeypatch, base_args, api):
    url = 'http://%s:%d/' % (LOOPBACK, api.port)
    result = run_main(monkeypatch, dict(base_args, server_url=url, api_token=TOKEN))
    assert isinstance(result, AnsibleExitJson)
    data = result.args[0]
    checks = by_name(data)
    assert all(checks[name]['ok'] for name in ('server_dns', 'server_tcp', 'server_api', 'clock_skew'))
    assert 'server_tls' in data['summary']['skipped']
    assert data['facts']['server_version'] == '24.2.0'
    assert api.requests[0][0] == '/api/App/Version'
    assert api.requests[0][1]['Authorization'] == 'Basic %s' % TOKEN


def test_server_checks_skipped_without_server_url(monkeypatch, base_args):
    result = run_main(monkeypatch, base_args)
    data = result.args[0]
    assert isinstance(result, AnsibleExitJson)
    assert set(pf.SERVER_CHECKS) <= set(data['summary']['skipped'])
    assert not set(pf.SERVER_CHECKS) & set(by_name(data))


def test_server_dns_failure_skips_what_depends_on_it(monkeypatch, base_args):
    host = FakeHost()

    def no_dns(*args):
        raise socket.gaierror(socket.EAI_NONAME, 'Name or service not known')

    host.getaddrinfo = no_dns
    result = run_main(monkeypatch, dict(base_args, server_url='https://wats.example.invalid'), host)
    data = result.args[0]
    assert isinstance(result, AnsibleFailJson)
    assert by_name(data)['server_dns']['detail'].startswith('cannot resolve wats.example.invalid')
    assert data['summary']['skipped'] == ['server_tcp', 'server_tls', 'server_api', 'clock_skew', 'health_port', 'package_index']


def test_server_tcp_refused():
    point = point_for('http://%s:%d' % (LOOPBACK, closed_port()))
    ok, detail, remedy = pf.check_server_tcp(point, 2, pf.tcp_connect)
    assert ok is False and detail.startswith('cannot connect to 127.0.0.1:')
    assert 'firewall' in remedy


def test_server_tls_verified_with_ca_bundle(tls_api, pki):
    point = point_for('https://%s:%d' % (LOOPBACK, tls_api.port))
    ok, detail, remedy = pf.check_server_tls(point, 5, True, pki['ca'], pf.tcp_connect)
    assert ok is True, detail
    assert 'certificate verified against %s' % pki['ca'] in detail


def test_server_tls_verified_with_pem_text(tls_api, pki):
    # The role passes the controller's CA file as text: it is not on the host yet.
    with open(pki['ca']) as fh:
        pem = fh.read()
    point = point_for('https://%s:%d' % (LOOPBACK, tls_api.port))
    ok, detail, remedy = pf.check_server_tls(point, 5, True, pem, pf.tcp_connect)
    assert ok is True, detail
    assert 'certificate verified against the given PEM certificates' in detail
    assert '-----BEGIN' not in detail


def test_server_tls_unknown_ca_fails_and_names_the_variables(tls_api):
    point = point_for('https://%s:%d' % (LOOPBACK, tls_api.port))
    ok, detail, remedy = pf.check_server_tls(point, 5, True, None, pf.tcp_connect)
    assert ok is False and 'TLS handshake with 127.0.0.1' in detail
    assert 'pywats_client_ca_bundle' in remedy and 'pywats_client_preflight_skip' in remedy


def test_server_tls_without_validation_and_with_a_missing_bundle(tls_api, tmp_path):
    point = point_for('https://%s:%d' % (LOOPBACK, tls_api.port))
    unverified = pf.check_server_tls(point, 5, False, None, pf.tcp_connect)
    missing = pf.check_server_tls(point, 5, True, str(tmp_path / 'none.pem'), pf.tcp_connect)
    assert unverified[0] is True and 'not verified' in unverified[1]
    assert missing[0] is False and missing[1].startswith('cannot load CA bundle')


def test_server_tls_on_a_plain_http_port(api):
    point = point_for('https://%s:%d' % (LOOPBACK, api.port))
    ok, detail, remedy = pf.check_server_tls(point, 5, True, None, pf.tcp_connect)
    assert ok is False and 'speaks TLS' in remedy


def test_https_through_the_proxy_option_tunnels_to_the_server(monkeypatch, base_args, tls_api, pki, proxy):
    url = 'https://%s:%d' % (LOOPBACK, tls_api.port)
    result = run_main(monkeypatch, dict(base_args, server_url=url, proxy=proxy.url, ca_bundle=pki['ca']))
    data = result.args[0]
    assert isinstance(result, AnsibleExitJson), data
    checks = by_name(data)
    assert checks['server_dns']['detail'].startswith('proxy 127.0.0.1:%d resolves' % proxy.server_address[1])
    assert all(checks[name]['ok'] for name in pf.SERVER_CHECKS)
    # One tunnel for the TLS check, one for the API call.
    assert [line.split(' HTTP/')[0] for line in proxy.seen] == ['CONNECT 127.0.0.1:%d' % tls_api.port] * 2


def test_http_through_a_proxy_from_the_environment(monkeypatch, base_args, proxy):
    host = FakeHost()
    host.environ = {'HTTP_PROXY': proxy.url, 'NO_PROXY': 'localhost'}
    result = run_main(monkeypatch, dict(base_args, server_url='http://wats.example.invalid/'), host)
    data = result.args[0]
    assert isinstance(result, AnsibleExitJson), data
    assert proxy.seen[0].startswith('GET http://wats.example.invalid/api/App/Version HTTP/1.1')
    assert data['facts']['server_version'] == '24.2.0-via-proxy'


def test_proxy_refusing_connect(tls_api, proxy):
    proxy.refuse = True
    point = point_for('https://%s:%d' % (LOOPBACK, tls_api.port), proxy=proxy.url)
    ok, detail, remedy = pf.check_server_tls(point, 5, True, None, pf.tcp_connect)
    assert ok is False and 'proxy refused CONNECT 127.0.0.1:%d: HTTP/1.1 403 Forbidden' % tls_api.port in detail


def test_effective_proxy_rules():
    env = {'HTTPS_PROXY': 'http://env-proxy:3128', 'no_proxy': '.corp.example, localhost'}
    assert pf.effective_proxy('https', 'wats.example.com', None, [], env) == 'http://env-proxy:3128'
    assert pf.effective_proxy('https', 'wats.corp.example', None, [], env) is None
    assert pf.effective_proxy('http', 'wats.example.com', None, [], env) is None
    assert pf.effective_proxy('https', 'wats.example.com', 'opt-proxy:8080', [], env) == 'http://opt-proxy:8080'
    assert pf.effective_proxy('https', 'wats.example.com', 'http://p:1', ['example.com'], env) is None
    assert pf.effective_proxy('https', 'anything', 'http://p:1', ['*'], {}) is None
    point = point_for('https://wats.example.com', proxy='http://us%40r:p%3Ass@p.example:3128')
    assert (point['proxy_host'], point['proxy_port']) == ('p.example', 3128)
    assert point['proxy_auth'] == 'dXNAcjpwOnNz'  # base64 of "us@r:p:ss"


def test_server_api_rejected_token_names_the_variable_not_the_value(monkeypatch, base_args, api):
    api.reply = (401, {}, b'')
    url = 'http://%s:%d' % (LOOPBACK, api.port)
    result = run_main(monkeypatch, dict(base_args, server_url=url, api_token=TOKEN))
    data = result.args[0]
    assert isinstance(result, AnsibleFailJson)
    check = by_name(data)['server_api']
    assert check['detail'] == 'the server rejected the API token (HTTP 401 on GET %s/api/App/Version)' % url
    assert 'pywats_client_api_token' in check['remedy']
    assert TOKEN not in json.dumps(data)
    assert TOKEN in SEEN_NO_LOG[0]
    assert by_name(data)['clock_skew']['ok'] is True


def test_server_api_against_the_standin_accepts_its_token_and_rejects_another(monkeypatch, base_args, tmp_path):
    from ansible_collections.virinco.pywats.tests.standin import wats_standin
    with wats_standin.Standin(TOKEN, port=0, state_dir=str(tmp_path / 'standin')) as server:
        good = run_main(monkeypatch, dict(base_args, server_url=server.url, api_token=TOKEN))
        bad = run_main(monkeypatch, dict(base_args, server_url=server.url, api_token='not-the-' + TOKEN))
    assert by_name(good.args[0])['server_api']['ok'] is True
    assert isinstance(bad, AnsibleFailJson)
    check = by_name(bad.args[0])['server_api']
    assert check['ok'] is False
    assert check['detail'] == 'the server rejected the API token (HTTP 401 on GET %s/api/App/Version)' % server.url


def test_server_api_without_token_on_401(api):
    api.reply = (401, {}, b'')
    point = point_for('http://%s:%d' % (LOOPBACK, api.port))
    ok, detail, remedy = pf.check_server_api(point, None, 5, True, None, {}, pf.http_get)
    assert ok is False and 'requires an API token and none is set' in detail
    assert 'Authorization' not in api.requests[0][1]


def test_server_api_does_not_follow_redirects(api):
    api.reply = (302, {'Location': 'https://elsewhere.example/api/App/Version'}, b'')
    point = point_for('http://%s:%d' % (LOOPBACK, api.port))
    ok, detail, remedy = pf.check_server_api(point, None, 5, True, None, {}, pf.http_get)
    assert ok is False and detail.endswith('redirects (HTTP 302) to https://elsewhere.example/api/App/Version')
    assert len(api.requests) == 1 and 'does not follow redirects' in remedy


def test_server_api_error_status_and_timeout(api):
    point = point_for('http://%s:%d/wats/' % (LOOPBACK, api.port))
    api.reply = (503, {}, b'down')
    status = pf.check_server_api(point, None, 5, True, None, {}, pf.http_get)
    api.reply, api.delay = (200, {}, b'"1"'), 1.5
    slow = pf.check_server_api(point, None, 1, True, None, {}, pf.http_get)
    assert status[0] is False and status[1].endswith('/wats/api/App/Version answered HTTP 503')
    assert slow[0] is False and 'timed out' in slow[1]


def test_server_api_over_https(tls_api, pki):
    point = point_for('https://%s:%d' % (LOOPBACK, tls_api.port))
    seen = {}
    ok, detail, remedy = pf.check_server_api(point, TOKEN, 5, True, pki['ca'], seen, pf.http_get)
    assert ok is True and seen['version'] == '24.2.0' and 'date' in seen['headers']


def test_clock_skew_is_a_warning_and_never_fails_the_module(monkeypatch, base_args, api):
    api.clock_offset = -1000
    result = run_main(monkeypatch, dict(base_args, server_url='http://%s:%d' % (LOOPBACK, api.port)))
    data = result.args[0]
    assert isinstance(result, AnsibleExitJson)
    check = by_name(data)['clock_skew']
    assert check['ok'] is False and check['severity'] == 'warning'
    assert check['detail'].startswith('the local clock is 10') and 'ahead of the server' in check['detail']
    assert data['summary']['warnings'] == 1 and data['summary']['errors'] == 0
    assert 999 <= data['facts']['clock_skew_seconds'] <= 1001


def test_clock_skew_without_date_header():
    ok, detail, remedy = pf.check_clock_skew(None, 300, {}, time.time)
    assert ok is False and 'no usable Date header' in detail


# --- health port ---------------------------------------------------------------------------

TCP_TABLE = ('  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
             '   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1\n')


class FakeProc(object):
    def __init__(self, cgroup, fd_readable=True):
        self.files = {'/proc/net/tcp': TCP_TABLE, '/proc/net/tcp6': '  sl  local_address\n',
                      '/proc/77/cgroup': cgroup, '/proc/77/comm': 'pywats-client\n'}
        self.fd_readable = fd_readable

    def read(self, path):
        return self.files.get(path)

    def listdir(self, path):
        if path == '/proc':
            return ['1', '77', 'self', 'net']
        if path == '/proc/77/fd' and not self.fd_readable:
            raise OSError(errno.EACCES, 'Permission denied')
        return ['0', '3']

    def readlink(self, path):
        return 'socket:[4242]' if path == '/proc/77/fd/3' else '/dev/null'


def in_use(port):
    raise OSError(errno.EADDRINUSE, 'Address already in use')


def test_health_port_free(monkeypatch, base_args):
    host = FakeHost()
    result = run_main(monkeypatch, dict(base_args, health_port=8080), host)
    expected = {'name': 'health_port', 'ok': True, 'severity': 'error', 'detail': 'port 8080 is free', 'remedy': ''}
    assert by_name(result.args[0])['health_port'] == expected
    assert host.bound == [8080]


def test_health_port_held_by_the_service_itself():
    proc = FakeProc('0::/system.slice/pywats-client.service\n')
    ok, detail, remedy = pf.check_health_port(8080, 'pywats-client', in_use, proc.read, proc.listdir, proc.readlink)
    assert ok is True and detail == 'port 8080 is held by pywats-client (pid 77) of pywats-client.service itself'


def test_health_port_held_by_another_process():
    proc = FakeProc('0::/system.slice/nginx.service\n')
    ok, detail, remedy = pf.check_health_port(8080, 'pywats-client', in_use, proc.read, proc.listdir, proc.readlink)
    assert ok is False and detail == 'port 8080 is in use by pywats-client (pid 77), not by pywats-client.service'
    assert 'pywats_client_health_port' in remedy


def test_health_port_owner_not_visible_and_bind_denied():
    proc = FakeProc('', fd_readable=False)
    hidden = pf.check_health_port(8080, 'pywats-client', in_use, proc.read, proc.listdir, proc.readlink)

    def denied(port):
        raise OSError(errno.EACCES, 'Permission denied')

    no_perm = pf.check_health_port(80, 'pywats-client', denied, proc.read, proc.listdir, proc.readlink)
    assert hidden[:2] == (False, 'port 8080 is in use by a process this check cannot see')
    assert no_perm[0] is False and no_perm[1].startswith('cannot bind port 80')


def test_health_port_owner_hidden_but_unit_says_it_is_ours():
    # Root without CAP_SYS_PTRACE cannot read the service's fds; the unit's
    # settings decide instead.
    proc = FakeProc('', fd_readable=False)
    ours = pf.check_health_port(8080, 'pywats-client', in_use, proc.read, proc.listdir, proc.readlink,
                                lambda name: ('active', 8080))
    other_port = pf.check_health_port(8080, 'pywats-client', in_use, proc.read, proc.listdir, proc.readlink,
                                      lambda name: ('active', 9090))
    stopped = pf.check_health_port(8080, 'pywats-client', in_use, proc.read, proc.listdir, proc.readlink,
                                   lambda name: ('inactive', 8080))
    assert ours == (True, 'port 8080 is held by pywats-client.service itself (active, PYWATS_HEALTH_PORT=8080)', '')
    assert other_port[:2] == (False, 'port 8080 is in use by a process this check cannot see')
    assert stopped[0] is False


def test_unit_port_parses_systemctl_show(monkeypatch):
    class FakeModule(object):
        def get_bin_path(self, name):
            return '/bin/systemctl'

        def run_command(self, argv, environ_update=None):
            assert argv[1:3] == ['show', 'pywats-client.service']
            return 0, 'ActiveState=active\nEnvironment=HOME=/var/lib/pywats PYWATS_HEALTH_PORT=18181 X=1\n', ''

    assert pf.Host(FakeModule()).unit_port('pywats-client') == ('active', 18181)


def test_port_owner_reads_tcp6_too():
    proc = FakeProc('')
    proc.files['/proc/net/tcp'], proc.files['/proc/net/tcp6'] = '  sl\n', TCP_TABLE.replace(
        '00000000:1F90', '00000000000000000000000000000000:1F90')
    assert pf.port_owner(8080, proc.read, proc.listdir, proc.readlink) == 77
    assert pf.port_owner(8081, proc.read, proc.listdir, proc.readlink) is None


# --- inotify, glibc, selinux -------------------------------------------------------------------

def test_inotify():
    facts = {}
    good = {'/proc/sys/fs/inotify/max_user_watches': '524288\n', '/proc/sys/fs/inotify/max_user_instances': '1024\n'}
    assert pf.check_inotify(524288, 512, facts, good.get)[0] is True
    low = dict(good)
    low['/proc/sys/fs/inotify/max_user_instances'] = '128\n'
    ok, detail, remedy = pf.check_inotify(524288, 512, facts, low.get)
    assert ok is False and detail == 'fs.inotify.max_user_instances = 128 (want 512 or more)'
    assert 'fs.inotify.max_user_watches' in remedy and 'fs.inotify.max_user_instances' in remedy
    assert 'pywats_client_sysctl_manage' in remedy
    assert facts['inotify'] == {'max_user_watches': 524288, 'max_user_instances': 128}


def test_glibc_version_sources():
    assert pf.glibc_version(lambda name: 'glibc 2.36', lambda: ('', '')) == '2.36'
    assert pf.glibc_version(lambda name: None, lambda: ('glibc', '2.31')) == '2.31'

    def unsupported(name):
        raise ValueError('unrecognized configuration name')

    assert pf.glibc_version(unsupported, lambda: ('', '')) is None


def test_glibc_check():
    assert pf.check_glibc('2.36', '2.34')[0] is True
    ok, detail, remedy = pf.check_glibc('2.31', '2.34')
    musl = pf.check_glibc(None, '2.34')
    assert ok is False and detail == 'glibc 2.31 is older than 2.34'
    assert 'manylinux_2_34' in remedy and 'PySide6-Essentials' in remedy
    assert musl[0] is False


def test_glibc_check_names_the_aarch64_wheels():
    ok, detail, remedy = pf.check_glibc('2.28', '2.31', 'aarch64')
    assert ok is False and detail == 'glibc 2.28 is older than 2.31'
    assert remedy == ('PySide6-Essentials, which the client imports even headless, has aarch64 wheels for glibc 2.31'
                      ' or newer only (6.5.3 to 6.8.0.2: manylinux_2_31; 6.8.1 and later: manylinux_2_39): move the'
                      ' station to a newer OS (for example Debian 12, Raspberry Pi OS 12 64-bit or Ubuntu 22.04)')
    # Debian 12 arm64: glibc 2.36 takes the manylinux_2_31 wheels.
    assert pf.check_glibc('2.36', '2.31', 'aarch64') == (True, 'glibc 2.36', '')
    assert 'glibc 2.17 or newer here' in pf.check_glibc('2.12', '2.17', 'riscv64')[2]


# --- architecture ------------------------------------------------------------------------------

def test_machine_architecture_is_the_userland_one():
    assert pf.machine_architecture(lambda: 'x86_64', 64) == 'x86_64'
    assert pf.machine_architecture(lambda: 'aarch64', 64) == 'aarch64'
    # 32-bit Raspberry Pi OS on a Pi 4/5 boots a 64-bit kernel: pip sees armv8l, not aarch64.
    assert pf.machine_architecture(lambda: 'aarch64', 32) == 'armv8l'
    assert pf.machine_architecture(lambda: 'x86_64', 32) == 'i686'
    assert pf.machine_architecture(lambda: 'armv7l', 32) == 'armv7l'
    assert pf.machine_architecture(lambda: '', 64) is None
    assert pf.machine_architecture() == pf.platform.machine()


def test_architecture_check():
    assert pf.check_architecture('aarch64', ['x86_64', 'aarch64']) == (True, 'architecture aarch64', '')
    ok, detail, remedy = pf.check_architecture('armv7l', ['x86_64', 'aarch64'])
    assert ok is False and detail == 'architecture armv7l is not supported (supported: x86_64, aarch64)'
    assert remedy.startswith('The client imports PySide6 (Qt), whose Linux wheels exist for x86_64 and aarch64 only')
    assert '64-bit' in remedy
    ok, detail, remedy = pf.check_architecture('armv8l', ['x86_64', 'aarch64'])
    assert detail == ('architecture armv8l (a 32-bit userland on a 64-bit ARM kernel) is not supported'
                      ' (supported: x86_64, aarch64)')
    assert pf.check_architecture(None, ['x86_64'])[:2] == (False, 'the CPU architecture could not be read')


@pytest.mark.parametrize('arch', ['x86_64', 'aarch64'])
def test_supported_architecture_is_reported(monkeypatch, base_args, arch):
    host = FakeHost()
    host.arch = arch
    result = run_main(monkeypatch, dict(base_args, glibc_min='2.31'), host)
    data = result.args[0]
    assert isinstance(result, AnsibleExitJson)
    assert data['facts']['architecture'] == arch
    assert by_name(data)['architecture'] == {'name': 'architecture', 'ok': True, 'severity': 'error',
                                             'detail': 'architecture %s' % arch, 'remedy': ''}


def test_unsupported_architecture_is_refused_by_name(monkeypatch, base_args):
    host = FakeHost()
    host.arch = 'armv7l'
    result = run_main(monkeypatch, base_args, host)
    data = result.args[0]
    assert isinstance(result, AnsibleFailJson)
    assert data['msg'].startswith('architecture: architecture armv7l is not supported (supported: x86_64, aarch64).'
                                  ' Remedy: The client imports PySide6 (Qt)')
    assert data['facts']['architecture'] == 'armv7l'
    assert data['summary']['errors'] == 1


def test_architecture_list_option_and_skip(monkeypatch, base_args):
    host = FakeHost()
    host.arch = 'aarch64'
    refused = run_main(monkeypatch, dict(base_args, architectures=['x86_64']), host)
    skipped = run_main(monkeypatch, dict(base_args, architectures=['x86_64'], skip=['architecture']), host)
    empty = run_main(monkeypatch, dict(base_args, architectures=[]), host)
    assert isinstance(refused, AnsibleFailJson)
    assert 'architecture aarch64 is not supported (supported: x86_64)' in refused.args[0]['msg']
    assert isinstance(skipped, AnsibleExitJson) and 'architecture' in skipped.args[0]['summary']['skipped']
    assert skipped.args[0]['facts']['architecture'] == 'aarch64'
    assert isinstance(empty, AnsibleFailJson)
    assert empty.args[0]['msg'] == 'architectures must list at least one CPU architecture, such as x86_64 or aarch64'


def test_glibc_not_checked_without_pyside6(monkeypatch, base_args):
    host = FakeHost()
    host.libc = '2.28'
    result = run_main(monkeypatch, dict(base_args, needs_pyside6=False), host)
    data = result.args[0]
    assert isinstance(result, AnsibleExitJson)
    assert 'glibc' in data['summary']['skipped'] and data['facts']['glibc_version'] == '2.28'


def test_selinux_mode_and_check():
    assert pf.selinux_mode({'/sys/fs/selinux/enforce': '1\n'}.get, lambda: None) == 'enforcing'
    assert pf.selinux_mode({'/sys/fs/selinux/enforce': '0'}.get, lambda: None) == 'permissive'
    assert pf.selinux_mode({}.get, lambda: 'Enforcing\n') == 'enforcing'
    assert pf.selinux_mode({}.get, lambda: None) == 'disabled'
    ok, detail, remedy = pf.check_selinux('enforcing', False)
    assert ok is False and 'pywats_client_selinux_manage: true' in remedy
    assert pf.check_selinux('enforcing', True)[0] is True
    assert pf.check_selinux('permissive', False)[:2] == (True, 'SELinux is permissive')


def test_selinux_enforcing_is_only_a_warning(monkeypatch, base_args):
    host = FakeHost()
    host.files['/sys/fs/selinux/enforce'] = '1\n'
    result = run_main(monkeypatch, base_args, host)
    data = result.args[0]
    assert isinstance(result, AnsibleExitJson)
    assert by_name(data)['selinux']['severity'] == 'warning' and data['facts']['selinux_mode'] == 'enforcing'


# --- the module as a whole -------------------------------------------------------------------

def test_check_mode_runs_the_checks_and_changes_nothing(monkeypatch, base_args, tmp_path):
    result = run_main(monkeypatch, dict(base_args, _ansible_check_mode=True))
    data = result.args[0]
    assert isinstance(result, AnsibleExitJson)
    assert data['changed'] is False
    assert [c['name'] for c in data['checks']] == ['architecture', 'python', 'privileges', 'init_system', 'disk_space',
                                                   'inotify', 'glibc', 'selinux']
    assert data['summary'] == {'errors': 0, 'warnings': 0, 'passed': 8,
                               'skipped': ['server_dns', 'server_tcp', 'server_tls', 'server_api', 'clock_skew',
                                           'health_port', 'package_index']}
    assert not os.path.exists(base_args['state_dir']) and not os.path.exists(base_args['venv_dir'])


def test_failure_message_lists_every_failed_error_check(monkeypatch, base_args, tmp_path):
    python, marker = fake_python(tmp_path, '3.9.2')
    host = FakeHost()
    host.euid, host.libc = 1000, '2.31'
    host.files['/proc/sys/fs/inotify/max_user_instances'] = '128\n'
    result = run_main(monkeypatch, dict(base_args, python=python), host)
    data = result.args[0]
    assert isinstance(result, AnsibleFailJson)
    assert data['msg'] == '; '.join([
        'python: %s is Python 3.9.2, the client needs 3.10 or newer. Remedy: Install Python 3.10 or newer and set'
        ' pywats_client_python to its path (for example /usr/bin/python3.11)' % python,
        'privileges: running as uid 1000, not root. Remedy: Run the play (or the role) with become: true',
        'glibc: glibc 2.31 is older than 2.34. Remedy: PySide6-Essentials, which the client imports even headless,'
        ' ships only manylinux_2_34 wheels (glibc 2.34 or newer) since 6.10: move the station to a newer OS (for'
        ' example Debian 12, Ubuntu 22.04, RHEL 9). On an older glibc pip falls back to PySide6-Essentials 6.9.x'
        ' (manylinux_2_28, x86_64 only), which this collection does not test',
    ])
    assert data['summary'] == {'errors': 3, 'warnings': 1, 'passed': 4,
                               'skipped': ['server_dns', 'server_tcp', 'server_tls', 'server_api', 'clock_skew',
                                           'health_port', 'package_index']}
    assert len(data['checks']) == 8 and data['facts']['glibc_version'] == '2.31'


def test_api_token_is_no_log():
    assert pf.argument_spec()['api_token'] == {'type': 'str', 'no_log': True}


def test_credentials_are_masked_in_the_invocation_and_urls_stay_readable():
    from ansible.module_utils.common.parameters import _list_no_log_values
    from ansible.module_utils.basic import remove_values
    params = {'index_url': 'https://pypi.example.com/simple', 'index_userinfo': 'ci:Idx-Pass-0b3f',
              'proxy': 'http://proxy.example.com:3128', 'proxy_userinfo': 'ops:Proxy-Pass-91d2',
              'server_url': 'https://wats.example.com'}
    spec = pf.argument_spec()
    shown = remove_values({'module_args': params}, _list_no_log_values(spec, params))
    assert 'Pass' not in repr(shown)
    assert shown['module_args']['server_url'] == 'https://wats.example.com'
    assert shown['module_args']['index_url'] == 'https://pypi.example.com/simple'
    assert shown['module_args']['proxy'] == 'http://proxy.example.com:3128'


def test_credentials_given_apart_reach_the_checks(monkeypatch, base_args):
    seen = {}

    def fake_run_checks(params, host):
        seen.update(proxy=params['proxy'], index_url=params['index_url'])
        return [], {'errors': 0, 'warnings': 0, 'passed': 0, 'skipped': []}, {}
    monkeypatch.setattr(pf, 'run_checks', fake_run_checks)
    run_main(monkeypatch, dict(base_args, proxy='http://proxy.example.com:3128', proxy_userinfo='ops:p@ss/w',
                               index_url='https://pypi.example.com/simple', index_userinfo='ci:t0k'))
    assert seen == {'proxy': 'http://ops:p@ss/w@proxy.example.com:3128',
                    'index_url': 'https://ci:t0k@pypi.example.com/simple'}


def test_skip_known_and_unknown_names(monkeypatch, base_args):
    skipped = run_main(monkeypatch, dict(base_args, skip=['selinux', 'inotify']))
    unknown = run_main(monkeypatch, dict(base_args, skip=['selinux', 'dns']))
    assert isinstance(skipped, AnsibleExitJson)
    assert {'selinux', 'inotify'} <= set(skipped.args[0]['summary']['skipped'])
    assert not {'selinux', 'inotify'} & set(by_name(skipped.args[0]))
    assert skipped.args[0]['facts']['selinux_mode'] is None
    assert isinstance(unknown, AnsibleFailJson)
    message = unknown.args[0]['msg']
    assert 'dns' in message and all(name in message for name in pf.CHECK_NAMES)


@pytest.mark.parametrize('args, message', [
    ({'server_url': 'wats.example.com'}, "server_url must be an http:// or https:// URL with a host, got 'wats.example.com'"),
    ({'python_min': 'three'}, "python_min must be a version such as 3.10, got 'three'"),
    ({'proxy': 'socks5://p:1080'}, 'proxy must be an http:// URL such as http://proxy.example.com:3128'),
    ({'health_port': 70000}, 'health_port must be between 1 and 65535, got 70000'),
    ({'server_url': 'https://ops:Srv-Pass@wats.example.com'},
     "server_url must not carry credentials (user:password@host): the client authenticates with api_token only;"
     " got 'https://***@wats.example.com'"),
    ({'server_url': 'ftp://ops:Srv-Pass@wats.example.com'},
     "server_url must be an http:// or https:// URL with a host, got 'ftp://***@wats.example.com'"),
])
def test_bad_options_are_rejected_before_any_check(monkeypatch, base_args, args, message):
    host = FakeHost()
    result = run_main(monkeypatch, dict(base_args, **args), host)
    assert isinstance(result, AnsibleFailJson)
    assert result.args[0]['msg'] == message and 'checks' not in result.args[0]


def test_a_crashing_check_is_reported_not_raised():
    runner = pf.Runner([])

    def crash():
        raise RuntimeError('kaboom')

    assert runner.run('inotify', crash) is False
    assert runner.checks[0]['detail'] == 'the check itself failed: kaboom'
    assert 'skip: [inotify]' in runner.checks[0]['remedy']


# --- package_index ---------------------------------------------------------------------------

def test_package_index_lists_the_package(api):
    api.reply = (200, {'Content-Type': 'text/html'}, b'<a href="pywats_api-0.6.0rc1-py3-none-any.whl">x</a>')
    index = 'http://%s:%d/simple' % (LOOPBACK, api.port)
    ok, detail, remedy = pf.check_package_index(index, 'PyWATS_api', 5, None, [], {}, True, None, pf.http_get)
    assert ok is True and detail == 'the package index %s lists PyWATS_api' % index
    # PEP 503 normalises the name in the URL.
    assert api.requests[0][0] == '/simple/pywats-api/'


def test_package_index_unreachable_names_the_wheelhouse_way():
    index = 'http://%s:%d/simple' % (LOOPBACK, closed_port())
    ok, detail, remedy = pf.check_package_index(index, 'pywats-api', 2, None, [], {}, True, None, pf.http_get)
    assert ok is False and detail.startswith('the package index %s is unreachable: ' % index)
    assert 'pywats_client_install_source: wheelhouse' in remedy and 'virinco.pywats.wheelhouse' in remedy


def test_package_index_without_the_package(api):
    api.reply = (404, {'Content-Type': 'text/plain'}, b'not found')
    index = 'http://%s:%d/simple' % (LOOPBACK, api.port)
    ok, detail, remedy = pf.check_package_index(index, 'pywats-api', 5, None, [], {}, True, None, pf.http_get)
    assert ok is False and detail == 'the package index %s answered 404 for pywats-api' % index


def test_package_index_check_runs_only_when_an_index_is_given(monkeypatch, base_args):
    result = run_main(monkeypatch, dict(base_args), FakeHost())
    assert 'package_index' in result.args[0]['summary']['skipped']


# --- credentials in URLs ------------------------------------------------------------------------

@pytest.mark.parametrize('url, shown', [
    ('https://wats.example.com/x', 'https://wats.example.com/x'),
    ('https://ops:pw@wats.example.com', 'https://***@wats.example.com'),
    ('https://ops:p@ss/w\nrd@wats.example.com:8443/', 'https://***@wats.example.com:8443/'),
    ('ops:pw@wats.example.com', '***@wats.example.com'),
])
def test_redact_url_hides_all_user_information(url, shown):
    assert pf.redact_url(url) == shown


def test_package_index_credentials_are_sent_as_basic_auth_and_never_shown(api):
    api.reply = (200, {'Content-Type': 'text/html'}, b'<a href="pywats_api-0.6.0rc1-py3-none-any.whl">x</a>')
    index = 'http://ci:Idx%%40Pass@%s:%d/simple' % (LOOPBACK, api.port)
    ok, detail, remedy = pf.check_package_index(index, 'pywats-api', 5, None, [], {}, True, None, pf.http_get)
    assert ok is True and detail == 'the package index http://***@%s:%d/simple lists pywats-api' % (LOOPBACK, api.port)
    path, headers = api.requests[0]
    assert path == '/simple/pywats-api/'
    assert headers['Authorization'] == 'Basic Y2k6SWR4QFBhc3M='  # base64 of "ci:Idx@Pass"


def test_package_index_unreachable_with_credentials_hides_them():
    index = 'http://ci:Idx-Pass@%s:%d/simple' % (LOOPBACK, closed_port())
    ok, detail, remedy = pf.check_package_index(index, 'pywats-api', 2, None, [], {}, True, None, pf.http_get)
    assert ok is False and detail.startswith('the package index http://***@%s:' % LOOPBACK)
    assert 'Idx-Pass' not in detail + remedy


def test_server_api_redirect_to_a_url_with_credentials_hides_them(api):
    api.reply = (302, {'Location': 'https://u:Redirect-Pass@elsewhere.example/api/App/Version'}, b'')
    point = point_for('http://%s:%d' % (LOOPBACK, api.port))
    ok, detail, remedy = pf.check_server_api(point, None, 5, True, None, {}, pf.http_get)
    assert ok is False and detail.endswith('redirects (HTTP 302) to https://***@elsewhere.example/api/App/Version')
