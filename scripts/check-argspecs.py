#!/usr/bin/env python
"""Fail when a role's defaults/main.yml and meta/argument_specs.yml list
different options, when a spec'd default differs from the defaults file, or when
a required option of the main entry point has a default (other than the empty
placeholder in defaults/main.yml), when an option of any entry point states no
default, or when an entry point has no version_added."""
import pathlib
import sys

import yaml

root = pathlib.Path(__file__).resolve().parent.parent
problems = []
for role in sorted((root / "roles").iterdir()):
    defaults_file = role / "defaults" / "main.yml"
    spec_file = role / "meta" / "argument_specs.yml"
    if not defaults_file.exists():
        continue
    if not spec_file.exists():
        problems.append(f"{role.name}: defaults/main.yml exists but meta/argument_specs.yml does not")
        continue
    defaults = yaml.safe_load(defaults_file.read_text()) or {}
    spec = (yaml.safe_load(spec_file.read_text()) or {}).get("argument_specs", {})
    main = (spec.get("main") or {}).get("options") or {}
    for name in sorted(set(defaults) - set(main)):
        problems.append(f"{role.name}: {name} is in defaults/main.yml but not in argument_specs (main)")
    for entry_point, entry in spec.items():
        # antsibull-changelog lists a role under "New Roles" from its entry points'
        # version_added, and ansible-doc shows it.
        if not (entry or {}).get("version_added"):
            problems.append(f"{role.name}: entry point {entry_point} has no version_added")
        options = (entry or {}).get("options") or {}
        for name in sorted(set(options) - set(defaults)):
            problems.append(f"{role.name}: {name} is in argument_specs ({entry_point}) but not in defaults/main.yml")
        for name in sorted(set(options) & set(defaults)):
            opt = options[name]
            if entry_point == "main" and opt.get("required"):
                # A required option keeps an empty placeholder in defaults/main.yml (so
                # that entry points and states that do not use it run), which Ansible
                # counts as given: the role's own checks refuse it. A spec default
                # would contradict `required`, and a non-empty placeholder would be a
                # real default that nobody is told about.
                if "default" in opt:
                    problems.append(f"{role.name}: {name} is required but has a default in argument_specs (main)")
                if defaults[name] not in ("", None):
                    problems.append(f"{role.name}: {name} is required, so defaults/main.yml must hold an empty"
                                    f" placeholder, not {defaults[name]!r}")
            elif "default" not in opt and not opt.get("required"):
                # ansible-doc shows an option without `default` as `default: null`: every
                # entry point states the default that its options really have.
                problems.append(f"{role.name}: {name} has no default in argument_specs ({entry_point})")
            elif "default" in opt and opt["default"] != defaults[name]:
                problems.append(f"{role.name}: {name} defaults to {defaults[name]!r} but argument_specs"
                                f" ({entry_point}) says {opt['default']!r}")
            if not opt.get("description"):
                problems.append(f"{role.name}: {name} has no description in argument_specs ({entry_point})")
for p in problems:
    print(p)
print(f"argument specs: {'FAILED' if problems else 'ok'} ({len(problems)} problems)")
sys.exit(1 if problems else 0)
