# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The AWX survey specs (awx/surveys/*.json) and playbooks/awx_configure.yml that loads them.

Each survey is checked the way AWX's API checks a survey_spec POST (required keys and
their types, allowed question types, a default of the question's type, min/max integers,
choices for choice questions, defaults among the choices), plus what AWX leaves to us:
defaults inside min/max, every variable used by the playbook the survey belongs to (or a
public option of the role that playbook runs), defaults equal to the playbook's and the
role's own, and no question for the token, which comes from the credential.

Run: python -m pytest tests/unit/test_awx_surveys.py -q
"""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SURVEY_DIR = ROOT / 'awx' / 'surveys'
PLAYBOOK_DIR = ROOT / 'playbooks'
CONFIGURE = PLAYBOOK_DIR / 'awx_configure.yml'
# The awx.awx tasks, which awx_configure.yml includes once it found awx.awx.
CONFIGURE_OBJECTS = PLAYBOOK_DIR / 'tasks' / 'awx_configure_objects.yml'
ROLE_DEFAULTS = ROOT / 'roles' / 'pywats_client' / 'defaults' / 'main.yml'

EXPECTED = ('deploy', 'upgrade', 'uninstall', 'preflight', 'status')

# AWX's JobTemplateSurveySpec.ALLOWED_TYPES: question type -> Python type of its default.
ALLOWED_TYPES = {
    'text': (str,),
    'textarea': (str,),
    'password': (str,),
    'integer': (int,),
    'float': (float, int),
    'multiplechoice': (str,),
    'multiselect': (str,),
}
TEXT_TYPES = ('text', 'textarea', 'password')
CHOICE_TYPES = ('multiplechoice', 'multiselect')
KNOWN_KEYS = {'question_name', 'question_description', 'required', 'type', 'variable', 'min', 'max', 'default',
              'choices', 'new_question', 'formattype'}


class _AnsibleLoader(yaml.SafeLoader):
    """Reads playbooks with Ansible's tags (!unsafe, !vault) as plain strings."""


def _tag_as_string(loader, _suffix, node):
    return loader.construct_scalar(node)


_AnsibleLoader.add_multi_constructor('!', _tag_as_string)


def _load_yaml(path):
    with open(path, encoding='utf-8') as handle:
        return yaml.load(handle, Loader=_AnsibleLoader)  # noqa: S506 - a SafeLoader subclass


def _survey_files():
    return sorted(SURVEY_DIR.glob('*.json'))


def _choices(item):
    choices = item.get('choices')
    if isinstance(choices, str):
        return [c for c in choices.splitlines() if c.strip()]
    return list(choices or [])


def _defaults_list(item):
    default = item.get('default')
    if isinstance(default, str):
        return [d for d in default.splitlines() if d.strip()]
    return list(default or [])


def _playbook_defaults(playbook_path, variable):
    """Literal defaults the playbook gives the variable: `var | default(...)` and play-level `vars:`."""
    text = playbook_path.read_text(encoding='utf-8')
    found = []
    pattern = r'\b{0}\s*\|\s*default\(\s*(?:([\'"])(.*?)\1|(-?\d+|true|false|True|False))\s*[,)]'.format(re.escape(variable))
    for match in re.finditer(pattern, text):
        found.append(match.group(2) if match.group(1) else match.group(3))
    for play in _load_yaml(playbook_path) or []:
        if isinstance(play, dict) and isinstance(play.get('vars'), dict) and variable in play['vars']:
            value = play['vars'][variable]
            if not (isinstance(value, str) and '{{' in value):
                found.append(value)
    return found


def _same(survey_default, playbook_default):
    return str(survey_default).strip().lower() == str(playbook_default).strip().lower()


@pytest.fixture(scope='module')
def role_defaults():
    return _load_yaml(ROLE_DEFAULTS)


def test_one_survey_per_fleet_playbook():
    assert sorted(p.stem for p in _survey_files()) == sorted(EXPECTED)


@pytest.mark.parametrize('path', _survey_files(), ids=lambda p: p.name)
def test_survey_is_valid_for_awx(path):
    survey = json.loads(path.read_text(encoding='utf-8'))
    for key in ('name', 'description'):
        assert isinstance(survey.get(key), str) and survey[key].strip(), '{0}: {1} must be a non-empty string'.format(path.name, key)
    assert isinstance(survey.get('spec'), list) and survey['spec'], '{0}: spec must be a non-empty list'.format(path.name)

    variables = set()
    for idx, item in enumerate(survey['spec']):
        where = '{0} question {1}'.format(path.name, idx)
        assert isinstance(item, dict), where
        assert set(item) <= KNOWN_KEYS, '{0}: unknown keys {1}'.format(where, sorted(set(item) - KNOWN_KEYS))
        for key in ('type', 'question_name', 'variable'):
            assert isinstance(item.get(key), str) and item[key], '{0}: {1} must be a non-empty string'.format(where, key)
        assert isinstance(item.get('required'), bool), '{0}: required must be a boolean'.format(where)
        assert isinstance(item.get('question_description', ''), str), where
        assert re.match(r'^[A-Za-z_][A-Za-z0-9_]*$', item['variable']), '{0}: {1!r} is no valid variable name'.format(where, item['variable'])
        assert item['variable'] not in variables, '{0}: variable {1} twice'.format(where, item['variable'])
        variables.add(item['variable'])

        qtype = item['type']
        assert qtype in ALLOWED_TYPES, '{0}: type {1!r} is not one AWX allows'.format(where, qtype)
        default = item.get('default', '')
        if default != '':
            assert isinstance(default, ALLOWED_TYPES[qtype]) and not isinstance(default, bool), \
                '{0}: default {1!r} is not a {2} answer'.format(where, default, qtype)

        for key in ('min', 'max'):
            if item.get(key) not in (None, ''):
                assert isinstance(item[key], int) and not isinstance(item[key], bool), '{0}: {1} must be an integer'.format(where, key)
        low, high = item.get('min'), item.get('max')
        if isinstance(low, int) and isinstance(high, int):
            assert low <= high, where
        if qtype in ('integer', 'float') and default != '':
            if isinstance(low, int):
                assert default >= low, '{0}: default {1} below min {2}'.format(where, default, low)
            if isinstance(high, int):
                assert default <= high, '{0}: default {1} above max {2}'.format(where, default, high)
        if qtype in TEXT_TYPES and default != '':
            if isinstance(low, int):
                assert len(default) >= low, '{0}: default shorter than min {1}'.format(where, low)
            if isinstance(high, int):
                assert len(default) <= high, '{0}: default longer than max {1}'.format(where, high)
        if qtype in TEXT_TYPES and default == '' and not item['required']:
            # AWX would reject the empty default of an optional question below its min length.
            assert not isinstance(low, int) or low == 0, '{0}: optional with min {1} but an empty default'.format(where, low)

        if qtype in CHOICE_TYPES:
            choices = _choices(item)
            assert choices, '{0}: {1} needs choices'.format(where, qtype)
            assert len(set(choices)) == len(choices), '{0}: duplicate choices'.format(where)
            defaults = _defaults_list(item)
            if qtype == 'multiplechoice':
                assert len(defaults) <= 1, '{0}: multiplechoice takes one default'.format(where)
            for value in defaults:
                assert value in choices, '{0}: default {1!r} not among {2}'.format(where, value, choices)

        # The token comes from the "pyWATS API token" credential, never from a survey.
        assert qtype != 'password', '{0}: no secrets in surveys'.format(where)
        assert not re.search(r'token|secret|password', item['variable'], re.I), '{0}: {1} looks like a secret'.format(where, item['variable'])


@pytest.mark.parametrize('path', _survey_files(), ids=lambda p: p.name)
def test_survey_variables_are_used_by_their_playbook(path, role_defaults):
    playbook = PLAYBOOK_DIR / '{0}.yml'.format(path.stem)
    assert playbook.is_file(), '{0} has no playbook {1}'.format(path.name, playbook.relative_to(ROOT))
    text = playbook.read_text(encoding='utf-8')
    runs_role = 'virinco.pywats.pywats_client' in text
    survey = json.loads(path.read_text(encoding='utf-8'))
    for item in survey['spec']:
        variable = item['variable']
        used = re.search(r'\b{0}\b'.format(re.escape(variable)), text) is not None
        role_option = runs_role and variable in role_defaults
        assert used or role_option, '{0}: {1} is neither used by {2} nor an option of the role it runs'.format(
            path.name, variable, playbook.name)


@pytest.mark.parametrize('path', _survey_files(), ids=lambda p: p.name)
def test_survey_defaults_match_the_playbook_and_role(path, role_defaults):
    playbook = PLAYBOOK_DIR / '{0}.yml'.format(path.stem)
    if not playbook.is_file():
        pytest.fail('{0} has no playbook {1}'.format(path.name, playbook.relative_to(ROOT)))
    survey = json.loads(path.read_text(encoding='utf-8'))
    for item in survey['spec']:
        variable, default = item['variable'], item.get('default', '')
        if item['required'] and default == '':
            continue   # deliberately no default: the operator has to answer
        for playbook_default in _playbook_defaults(playbook, variable):
            assert _same(default, playbook_default), '{0}: {1} defaults to {2!r}, {3} to {4!r}'.format(
                path.name, variable, default, playbook.name, playbook_default)
        if variable in role_defaults and '{{' not in str(role_defaults[variable]):
            assert _same(default, role_defaults[variable]), '{0}: {1} defaults to {2!r}, the role to {3!r}'.format(
                path.name, variable, default, role_defaults[variable])


def _configure_tasks():
    plays = _load_yaml(CONFIGURE)
    assert isinstance(plays, list) and len(plays) == 1
    includes = [t for t in plays[0]['tasks'] if 'ansible.builtin.include_tasks' in t]
    assert [t['ansible.builtin.include_tasks'] for t in includes] == ['tasks/awx_configure_objects.yml']
    blocks = _load_yaml(CONFIGURE_OBJECTS)
    assert len(blocks) == 1 and 'group/awx.awx.controller' in blocks[0]['module_defaults']
    return plays[0], plays[0]['tasks'] + blocks[0]['block']


def _task(tasks, module):
    found = [t for t in tasks if module in t]
    assert len(found) == 1, 'awx_configure.yml: expected one {0} task'.format(module)
    return found[0]


def test_configure_creates_a_job_template_per_survey():
    play, tasks = _configure_tasks()
    templates = play['vars']['pywats_awx_job_templates']
    assert sorted(t['playbook'] for t in templates) == sorted(EXPECTED)
    assert len({t['name'] for t in templates}) == len(templates)
    for template in templates:
        assert (PLAYBOOK_DIR / '{0}.yml'.format(template['playbook'])).is_file(), template
        assert (SURVEY_DIR / '{0}.json'.format(template['playbook'])).is_file(), template

    task = _task(tasks, 'awx.awx.job_template')
    args = task['awx.awx.job_template']
    assert task['loop'] == '{{ pywats_awx_job_templates }}'
    assert args['playbook'] == 'playbooks/{{ item.playbook }}.yml'
    assert args['survey_enabled'] is True
    assert "lookup('ansible.builtin.file'" in args['survey_spec']
    assert "item.playbook ~ '.json'" in args['survey_spec']
    assert play['vars']['pywats_awx_survey_dir'] == '{{ playbook_dir }}/../awx/surveys'
    assert args['credentials'] == '{{ __pywats_awx_credentials }}'
    assert 'pywats_awx_credential' in play['vars']['__pywats_awx_credentials']


def test_configure_token_handling():
    play, tasks = _configure_tasks()
    ctype = _task(tasks, 'awx.awx.credential_type')['awx.awx.credential_type']
    fields = ctype['inputs']['fields']
    assert [f['id'] for f in fields] == ['api_token']
    assert fields[0]['secret'] is True
    assert ctype['injectors'] == {'extra_vars': {'pywats_client_api_token': '{{ api_token }}'}}
    # !unsafe: AWX, not Ansible, renders the injector.
    assert '!unsafe "{{ api_token }}"' in CONFIGURE_OBJECTS.read_text(encoding='utf-8')

    credential = _task(tasks, 'awx.awx.credential')
    assert credential['awx.awx.credential']['inputs'] == {'api_token': '{{ pywats_awx_api_token }}'}
    assert credential['no_log'] == '{{ pywats_awx_secure_logging }}'
    assert play['vars']['pywats_awx_secure_logging'] is True
    assert play['vars']['pywats_awx_api_token'] == '{{ vault_pywats_client_api_token }}'
    for task in tasks:
        if 'pywats_awx_api_token' in json.dumps(task) and 'is defined' not in json.dumps(task):
            assert task.get('no_log') == '{{ pywats_awx_secure_logging }}', task['name']
