# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The PowerShell module win_pywats_preflight.ps1 against its documentation sidecar, without PowerShell.

No pwsh can be installed where these tests run, so nothing here runs the module. Instead the
``$spec`` literal (and the literals it refers to) is read from the .ps1 by a small parser for the
data subset of PowerShell the spec uses, and compared with DOCUMENTATION: option names, types,
elements, defaults, choices, no_log. The RETURN keys are compared with the keys the script builds,
every check name the script runs with the skip choices, and the script is kept to what Windows
PowerShell 5.1 parses. When the tree-sitter PowerShell grammar is installed, the whole script is
also parsed with it.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import re
import subprocess
import sys
import tempfile
from collections import OrderedDict

import pytest
import yaml

from ansible_collections.virinco.pywats.plugins.modules import win_pywats_preflight as sidecar

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
PS1 = os.path.join(REPO_ROOT, 'plugins', 'modules', 'win_pywats_preflight.ps1')
ROLE_DEFAULTS = os.path.join(REPO_ROOT, 'roles', 'pywats_client', 'defaults', 'main.yml')


# --- a parser for the data subset of PowerShell ------------------------------------------------

class PsParseError(ValueError):
    pass


class Keys(list):
    """The result of ``$table.Keys``: a collection that ``@(...)`` unrolls."""


TOKEN = re.compile(r'''
    (?P<newline>\r?\n)
  | (?P<space>[ \t]+|`\r?\n)
  | (?P<blockcomment><\#.*?\#>)
  | (?P<comment>\#[^\n]*)
  | (?P<open_hash>@\{)
  | (?P<open_array>@\()
  | (?P<punct>[{}()=;,])
  | (?P<sq>'(?:[^']|'')*')
  | (?P<dq>"(?:[^"`$]|"")*")
  | (?P<type>\[[A-Za-z_][\w.]*(?:\[\])?\])
  | (?P<var>\$[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<word>[A-Za-z_][\w-]*)
''', re.S | re.X)


def tokenize(text, pos):
    """Tokens from pos until the expression that starts there closes; [(kind, value)]."""
    tokens, depth = [], 0
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match:
            raise PsParseError('cannot read PowerShell at %r' % text[pos:pos + 40])
        pos = match.end()
        kind = match.lastgroup
        value = match.group(kind)
        if kind in ('space', 'comment', 'blockcomment'):
            continue
        if kind in ('open_hash', 'open_array') or (kind == 'punct' and value in '({'):
            depth += 1
        elif kind == 'punct' and value in ')}':
            depth -= 1
        tokens.append((kind, value))
        if depth == 0 and kind not in ('type',):
            if kind == 'newline' or (kind == 'punct' and value in ')}'):
                break
    return tokens


class Parser(object):
    def __init__(self, tokens, variables):
        self.tokens = tokens
        self.pos = 0
        self.variables = variables

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ('eof', '')

    def take(self, kind=None, value=None):
        token = self.peek()
        if (kind and token[0] != kind) or (value is not None and token[1] != value):
            raise PsParseError('expected %s %s, got %r' % (kind, value, token))
        self.pos += 1
        return token

    def skip_separators(self, *values):
        while self.peek()[0] == 'newline' or (self.peek()[0] == 'punct' and self.peek()[1] in values):
            self.pos += 1

    def expression(self):
        """A value, or several joined by commas (a PowerShell array)."""
        first = self.value()
        if self.peek() != ('punct', ','):
            return first
        items = [first]
        while self.peek() == ('punct', ','):
            self.take()
            self.skip_separators()
            items.append(self.value())
        return items

    def value(self):
        kind, text = self.peek()
        if kind == 'type':
            self.take()
            found = self.value()
            if text.lower() == '[ordered]' and not isinstance(found, OrderedDict):
                raise PsParseError('[ordered] needs a hashtable literal')
            return found
        if kind == 'open_hash':
            return self.hashtable()
        if kind == 'open_array':
            return self.array()
        self.take()
        if kind == 'sq':
            return text[1:-1].replace("''", "'")
        if kind == 'dq':
            return text[1:-1].replace('""', '"')
        if kind == 'number':
            return float(text) if '.' in text else int(text)
        if kind == 'var':
            name, dummy, member = text[1:].partition('.')
            constants = {'true': True, 'false': False, 'null': None}
            if name.lower() in constants and not member:
                return constants[name.lower()]
            if name not in self.variables:
                raise PsParseError('unknown variable $%s' % name)
            found = self.variables[name]
            if member == 'Keys' and isinstance(found, dict):
                return Keys(found.keys())
            if member:
                raise PsParseError('cannot evaluate %s' % text)
            return found
        raise PsParseError('cannot evaluate %r' % text)

    def hashtable(self):
        self.take('open_hash')
        table = OrderedDict()
        while True:
            self.skip_separators(';')
            kind, text = self.peek()
            if (kind, text) == ('punct', '}'):
                self.take()
                return table
            if kind == 'word':
                key = self.take()[1]
            elif kind in ('sq', 'dq'):
                key = self.value()
            else:
                raise PsParseError('expected a hashtable key, got %r' % text)
            self.take('punct', '=')
            self.skip_separators()
            table[key] = self.expression()

    def array(self):
        self.take('open_array')
        items = []
        while True:
            self.skip_separators()
            if self.peek() == ('punct', ')'):
                self.take()
                return items
            found = self.expression()
            if isinstance(found, list):
                items.extend(found)
            else:
                items.append(found)


def read_assignment(text, name, variables, indent=''):
    """Evaluates the literal assigned to $name (the first assignment at that indentation)."""
    match = re.search(r'^%s\$%s\s*=\s*' % (re.escape(indent), re.escape(name)), text, re.M)
    if not match:
        raise PsParseError('no assignment to $%s' % name)
    parser = Parser(tokenize(text, match.end()), variables)
    found = parser.expression()
    if parser.peek()[0] not in ('newline', 'eof'):
        raise PsParseError('$%s: unexpected %r after the literal' % (name, parser.peek()))
    return found


def code_only(text):
    """The script with strings, here-strings and comments blanked out, for searching its code."""
    out, pos = [], 0
    here = re.compile(r'''@(['"])\r?\n.*?\r?\n\1@''', re.S)
    while pos < len(text):
        char = text[pos]
        match = here.match(text, pos)
        if match:
            out.append("''")
            pos = match.end()
        elif text.startswith('<#', pos):
            end = text.index('#>', pos) + 2
            pos = end
        elif char == '#':
            end = text.find('\n', pos)
            pos = len(text) if end < 0 else end
        elif char in ('"', "'"):
            end = pos + 1
            while end < len(text):
                if text[end] == '`' and char == '"':
                    end += 2
                    continue
                if text[end] == char:
                    if text[end + 1:end + 2] == char:
                        end += 2
                        continue
                    break
                end += 1
            out.append("''")
            pos = end + 1
        else:
            out.append(char)
            pos += 1
    return ''.join(out)


# --- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def script():
    with open(PS1, 'rb') as handle:
        return handle.read().decode('utf-8')


@pytest.fixture(scope='module')
def variables(script):
    found = {}
    for name in ('CheckSeverity', 'ServerChecks', 'spec'):
        found[name] = read_assignment(script, name, found)
    return found


@pytest.fixture(scope='module')
def spec_options(variables):
    return variables['spec']['options']


@pytest.fixture(scope='module')
def doc():
    return yaml.safe_load(sidecar.DOCUMENTATION)


@pytest.fixture(scope='module')
def returns():
    return yaml.safe_load(sidecar.RETURN)


# --- the parser itself --------------------------------------------------------------------------

def test_parser_reads_the_literals_the_spec_uses():
    text = '\n'.join([
        "$Order = [ordered]@{",
        "    b = 'x'  # a comment",
        "    a = 'y'",
        "}",
        "$spec = @{",
        "    options = @{",
        "        one = @{ type = 'list'; elements = 'str'; default = @(); choices = @($Order.Keys) }",
        "        two = @{ type = 'path'; default = 'C:\\Program Files\\it''s' }",
        "        three = @{ type = 'str'; choices = 'p', \"q\"; no_log = $true; default = $null }",
        "        four = @{ type = 'int'; default = -3 }",
        "    }",
        "    supports_check_mode = $false",
        "}",
    ])
    found = {}
    found['Order'] = read_assignment(text, 'Order', found)
    found['spec'] = read_assignment(text, 'spec', found)
    assert list(found['Order'].keys()) == ['b', 'a']
    options = found['spec']['options']
    assert options['one'] == {'type': 'list', 'elements': 'str', 'default': [], 'choices': ['b', 'a']}
    assert options['two']['default'] == "C:\\Program Files\\it's"
    assert options['three'] == {'type': 'str', 'choices': ['p', 'q'], 'no_log': True, 'default': None}
    assert options['four']['default'] == -3
    assert found['spec']['supports_check_mode'] is False


@pytest.mark.parametrize('text', [
    '$spec = @{ a = "expands $x" }',
    '$spec = @{ a = $unknown }',
    '$spec = @{ a = (Get-Thing) }',
    '$spec = @{ a = $x.Count }',
])
def test_parser_refuses_what_it_cannot_evaluate(text):
    with pytest.raises(PsParseError):
        read_assignment(text, 'spec', {'x': {'k': 1}})


def test_code_only_drops_strings_comments_and_here_strings():
    text = "$a = 'x ?? y' # || \n$b = \"q`\"&&\"\n$c = @'\nfoo && bar\n'@\n<# ?? #>$d = 1"
    code = code_only(text)
    for token in ('??', '||', '&&', 'foo'):
        assert token not in code
    assert '$d = 1' in code


# --- spec against DOCUMENTATION -----------------------------------------------------------------

def test_spec_and_doc_have_the_same_options(spec_options, doc):
    assert sorted(spec_options) == sorted(doc['options'])


def test_each_option_agrees_with_its_doc(spec_options, doc):
    mismatches = []
    for name, spec in spec_options.items():
        documented = doc['options'][name]
        wanted = {
            'type': spec.get('type', 'str'),
            'elements': spec.get('elements'),
            'default': spec.get('default'),
            'choices': list(spec['choices']) if 'choices' in spec else None,
            'required': spec.get('required', False),
        }
        found = {
            'type': documented.get('type', 'str'),
            'elements': documented.get('elements'),
            'default': documented.get('default'),
            'choices': documented.get('choices'),
            'required': documented.get('required', False),
        }
        for key in wanted:
            if wanted[key] != found[key]:
                mismatches.append('%s.%s: spec %r, doc %r' % (name, key, wanted[key], found[key]))
    assert not mismatches, '\n'.join(mismatches)


def test_spec_keys_are_known_to_ansible_basic(spec_options):
    known = {'type', 'elements', 'default', 'choices', 'no_log', 'required', 'aliases', 'options'}
    for name, spec in spec_options.items():
        assert set(spec) <= known, name
        assert spec.get('type', 'str') in ('bool', 'dict', 'float', 'int', 'json', 'list', 'path', 'raw', 'sid', 'str')


def test_the_token_and_the_proxy_are_masked(spec_options):
    # The proxy URL may carry credentials, as the token is one.
    assert sorted(name for name, spec in spec_options.items() if spec.get('no_log')) == ['api_token', 'proxy']


def test_check_mode_is_supported_and_documented(variables, doc):
    assert variables['spec']['supports_check_mode'] is True
    assert doc['attributes']['check_mode']['support'] == 'full'
    assert doc['attributes']['diff_mode']['support'] == 'none'
    assert doc['attributes']['platform']['platforms'] == 'windows'


def test_module_name_matches_the_files(doc):
    assert doc['module'] == 'win_pywats_preflight'


def test_examples_use_only_documented_options(doc):
    for task in yaml.safe_load(sidecar.EXAMPLES):
        args = task['virinco.pywats.win_pywats_preflight'] or {}
        assert set(args) <= set(doc['options']), task['name']


# --- checks, results and facts ------------------------------------------------------------------

def test_skip_choices_are_the_checks_in_run_order(variables, spec_options):
    assert spec_options['skip']['choices'] == list(variables['CheckSeverity'])
    assert set(variables['CheckSeverity'].values()) == {'error', 'warning'}


def test_every_check_the_script_names_is_a_choice_and_every_choice_runs(script, variables):
    code = script
    named = set(re.findall(r"-Name '(\w+)'", code)) | set(re.findall(r"\bname = '(\w+)'", code))
    named |= set(variables['ServerChecks'])
    assert named == set(variables['CheckSeverity'])


def test_the_doc_notes_name_every_check(doc, variables):
    notes = ' '.join(doc['notes'])
    missing = [name for name in variables['CheckSeverity'] if 'C(%s)' % name not in notes]
    assert not missing


def _block_keys(script, opener):
    """Keys of the multi-line hashtable literal whose first line is where opener's first match ends."""
    match = re.search(opener, script, re.M | re.S)
    assert match, opener
    keys, depth = [], 0
    for line in script[script.rfind('\n', 0, match.end()) + 1:].splitlines():
        depth_before = depth
        depth += line.count('{') - line.count('}')
        key = re.match(r'\s*(\w+) = ', line)
        if key and depth_before == 1:
            keys.append(key.group(1))
        if depth <= 0 and depth_before > 0:
            break
    return keys


def test_facts_the_script_returns_are_documented(script, returns):
    facts = read_assignment(script, 'facts', {}, indent='    ')
    assert sorted(facts) == sorted(returns['facts']['contains'])


def test_check_entries_and_summary_are_documented(script, returns):
    entry = _block_keys(script, r'^\s*\$Runner\.checks\.Add\(\[ordered\]@\{')
    assert entry == list(returns['checks']['contains'])
    summary = _block_keys(script, r'^function Get-PreflightSummary \{$.*?^    @\{$')
    assert sorted(summary) == sorted(returns['summary']['contains'])


def test_remedies_name_only_role_variables(script):
    """Remedies point users at role variables; each must exist in the role's defaults."""
    with open(ROLE_DEFAULTS) as handle:
        defaults = set(yaml.safe_load(handle))
    named = set(re.findall(r'\bpywats_client_\w+', script))
    assert named - defaults == set()
    assert {'pywats_client_windows_python', 'pywats_client_server_url', 'pywats_client_api_token', 'pywats_client_ca_bundle',
            'pywats_client_proxy', 'pywats_client_health_port', 'pywats_client_preflight_skip',
            'pywats_client_windows_python_installer'} <= named


# --- the regular expressions of the pure helpers -------------------------------------------------
# The literals are read from the script and run with Python's re, which agrees with .NET on the
# constructs they use once (?<name>...) is spelled (?P<name>...). PowerShell's -match ignores case.

def ps_function(script, name):
    start = script.index('\nfunction %s {' % name)
    end = script.find('\nfunction ', start + 1)
    return script[start:end if end > 0 else len(script)]


def ps_patterns(body, operator=r'-(?:not)?match'):
    """The single-quoted regex literal after each use of operator in body, for Python's re."""
    found = re.findall(r"%s '((?:[^']|'')*)'" % operator, body)
    return [re.sub(r'\(\?<([A-Za-z])', r'(?P<\1', text.replace("''", "'")) for text in found]


def ps_regex(script, function, index=0, ignore_case=True, operator=r'-(?:not)?match'):
    return re.compile(ps_patterns(ps_function(script, function), operator)[index], re.I if ignore_case else 0)


def test_py_launcher_list_is_read_in_old_and_new_forms(script):
    pattern = ps_regex(script, 'ConvertFrom-PyLauncherList')
    text = '\r\n'.join([
        'Installed Pythons found by py Launcher for Windows',
        ' -3.9-64        C:\\Python39\\python.exe *',
        ' -3.8-32        C:\\Program Files (x86)\\Python38-32\\python.exe',
        ' -V:3.12 *        C:\\Program Files\\Python312\\python.exe',
        ' -V:3.11          C:\\Users\\me\\AppData\\Local\\Programs\\Python\\Python311\\python.exe',
        ' -V:ContinuumAnalytics/Anaconda39-64 C:\\Users\\me\\anaconda3\\python.exe',
        'No Installed Pythons Found!',
    ])
    paths = [match.group('path') for match in (pattern.search(line) for line in re.split('\r?\n', text)) if match]
    assert paths == [
        'C:\\Python39\\python.exe',
        'C:\\Program Files (x86)\\Python38-32\\python.exe',
        'C:\\Program Files\\Python312\\python.exe',
        'C:\\Users\\me\\AppData\\Local\\Programs\\Python\\Python311\\python.exe',
        'C:\\Users\\me\\anaconda3\\python.exe',
    ]


def test_python_probe_answer_is_read(script):
    pattern = ps_regex(script, 'ConvertFrom-PythonProbe')
    found = pattern.search('3.11.4 64\r\n')
    assert (found.group('version'), found.group('bits')) == ('3.11.4', '64')
    assert pattern.search('3.12.0 32').group('bits') == '32'
    for text in ('Python 3.11.4', '3.11 64', '3.11.4 16', '3.11.4 64 extra', ''):
        assert not pattern.search(text), text
    # The probe prints exactly that shape, and holds no double quote (it is passed inside one).
    probe = read_assignment(script, 'PythonProbe', {})
    assert '"' not in probe and "'%d.%d.%d %d'" in probe


def test_loose_versions(script):
    pattern = ps_regex(script, 'ConvertTo-LooseVersion')
    assert pattern.search('3.10').groups() == ('3', '10', None)
    assert pattern.search(' 3.11.4 64').groups() == ('3', '11', '4')
    assert not pattern.search('v3.10')


def test_absolute_windows_paths(script):
    drive, unc = (ps_regex(script, 'Test-AbsoluteWindowsPath', index) for index in (0, 1))
    absolute = ['C:\\Program Files\\pyWATS', 'd:\\drop', '\\\\server\\share\\drop', '\\\\server\\share']
    relative = ['C:drop', 'drop', '\\drop', '\\\\server', '\\\\server\\', '/srv/drop']
    for path in absolute:
        assert drive.search(path) or unc.search(path), path
    for path in relative:
        assert not (drive.search(path) or unc.search(path)), path


def test_proxy_connect_answers(script):
    pattern = ps_regex(script, 'Open-ProxyTunnel', 1)  # the first -match looks for an IPv6 host
    for status in ('HTTP/1.1 200 Connection established', 'HTTP/1.0 200 OK', 'HTTP/2 200'):
        assert pattern.search(status), status
    for status in ('HTTP/1.1 407 Proxy Authentication Required', 'HTTP/1.1 2000 x', 'SSH-2.0-OpenSSH', ''):
        assert not pattern.search(status), status


def test_version_body_json_string(script):
    pattern = ps_regex(script, 'ConvertFrom-VersionBody')
    assert pattern.search('"24.2.0"').group('inner') == '24.2.0'
    assert pattern.search('"a \\"b\\""').group('inner') == 'a \\"b\\"'
    assert not pattern.search('<html>"x"</html>')


def test_pem_bundle_blocks(script):
    pattern = re.compile(ps_patterns(ps_function(script, 'ConvertFrom-PemBundle'), r'\[regex\]::Matches\(\$Text,')[0])
    pem = '\r\n'.join(['subject=CN=Test CA', '-----BEGIN CERTIFICATE-----', 'TUlJQg==', 'QUJD', '-----END CERTIFICATE-----',
                       '-----BEGIN CERTIFICATE-----', 'REVG', '-----END CERTIFICATE-----'])
    bodies = [re.sub(r'\s', '', match.group('body')) for match in pattern.finditer(pem)]
    assert bodies == ['TUlJQg==QUJD', 'REVG']
    assert not pattern.search('-----BEGIN PRIVATE KEY-----\nQUJD\n-----END PRIVATE KEY-----')


def test_uwf_exclusion_as_mof_text(script):
    pattern = ps_regex(script, 'ConvertFrom-UwfExclusion')
    mof = 'instance of UWF_ExcludedFile\n{\n\tFileName = "\\\\ProgramData\\\\pyWATS";\n};'
    assert pattern.search(mof).group('name') == '\\\\ProgramData\\\\pyWATS'


# --- Windows PowerShell 5.1 and Ansible.Basic ---------------------------------------------------

def test_script_uses_ansible_basic_and_ascii(script):
    assert script.startswith('#!powershell\n')
    assert '\n#AnsibleRequires -CSharpUtil Ansible.Basic\n' in script
    assert '[Ansible.Basic.AnsibleModule]::Create($args, $spec)' in script
    assert all(ord(char) < 128 for char in script), 'keep the script ASCII: Windows PowerShell reads files as ANSI'
    assert '\r' not in script


@pytest.mark.parametrize('pattern, why', [
    (r'\?\?', 'null-coalescing operators are PowerShell 7'),
    (r'\?\.|\?\[', 'null-conditional member access is PowerShell 7'),
    (r'&&|\|\|', 'pipeline chain operators are PowerShell 7'),
    (r'\s\?\s[^{]', 'the ternary operator is PowerShell 7 (and ? is an alias of Where-Object)'),
    (r'-Parallel\b', 'ForEach-Object -Parallel is PowerShell 7'),
    (r'-AsHashtable\b', 'ConvertFrom-Json -AsHashtable is PowerShell 6'),
    (r'-SkipCertificateCheck\b', '-SkipCertificateCheck is PowerShell 6'),
    (r'\$Is(Windows|Linux|MacOS|CoreCLR)\b', 'the $IsWindows family is PowerShell 6'),
    (r'\bGet-WmiObject\b', 'use Get-CimInstance'),
    (r'\bWrite-Host\b', 'module output goes through $module only'),
    (r'(?m);\s*$', 'no semicolons at line ends (pslint)'),
])
def test_script_stays_within_windows_powershell_5_1(script, pattern, why):
    code = code_only(script)
    found = [line for line in code.splitlines() if re.search(pattern, line)]
    assert not found, '%s: %s' % (why, found)


def test_lines_fit_pslint(script):
    long_lines = [number for number, line in enumerate(script.splitlines(), 1) if len(line) > 160]
    assert not long_lines


def test_choices_are_not_a_string_array(script):
    """Ansible.Basic rejects a string[] for choices (it wants object[] or a single value)."""
    assert not re.search(r'choices = \[string\[\]\]', script)


def test_script_parses_with_tree_sitter(script):
    """A real PowerShell grammar when installed (pip install tree-sitter tree-sitter-powershell).

    The grammar has gaps of its own (it rejects some valid forms, such as a bare-word list
    argument: -Property A, B), so a failure here names the line to look at, in PowerShell terms.
    """
    tree_sitter = pytest.importorskip('tree_sitter')
    grammar = pytest.importorskip('tree_sitter_powershell')
    parser = tree_sitter.Parser(tree_sitter.Language(grammar.language()))
    source = script.encode('utf-8')
    tree = parser.parse(source)
    errors = []

    def walk(node):
        if node.type == 'ERROR' or node.is_missing:
            errors.append('line %d: %s' % (node.start_point[0] + 1, source[node.start_byte:node.end_byte][:80]))
            return
        for child in node.children:
            walk(child)
    walk(tree.root_node)
    assert not errors, '\n'.join(errors)


# --- the sidecar renders ------------------------------------------------------------------------

def test_ansible_doc_renders_the_module():
    top = tempfile.mkdtemp(prefix='virinco-pywats-doc-')
    try:
        os.makedirs(os.path.join(top, 'ansible_collections', 'virinco'))
        os.symlink(REPO_ROOT, os.path.join(top, 'ansible_collections', 'virinco', 'pywats'))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=top, ANSIBLE_NOCOLOR='1')
        run = subprocess.run([sys.executable, '-m', 'ansible.cli.doc', '--json', '-t', 'module',
                              'virinco.pywats.win_pywats_preflight'], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, universal_newlines=True, timeout=120, check=False)
    finally:
        os.unlink(os.path.join(top, 'ansible_collections', 'virinco', 'pywats'))
        os.removedirs(os.path.join(top, 'ansible_collections', 'virinco'))
    assert run.returncode == 0, run.stderr
    assert 'WARNING' not in run.stderr, run.stderr
    rendered = json.loads(run.stdout)['virinco.pywats.win_pywats_preflight']
    assert sorted(rendered['doc']['options']) == sorted(yaml.safe_load(sidecar.DOCUMENTATION)['options'])
    assert set(rendered['return']) == {'checks', 'summary', 'facts'}
