# -*- coding: utf-8 -*-

# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The documentation of each filter is in the YAML file of its name beside this one.

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.virinco.pywats.plugins.module_utils import pywats_values as values


class FilterModule(object):
    def filters(self):
        return {
            'converters_config': values.converters_config,
            'pyside6_tier': values.pyside6_tier,
            'pyside6_pin_glibc': values.pyside6_pin_glibc,
            'inotify_raise': values.inotify_raise,
            'selinux_port_types': values.selinux_port_types,
            'wheel_platform_tags': values.wheel_platform_tags,
            'wheel_file_pattern': values.wheel_file_pattern,
            'wheel_archive_name': values.wheel_archive_name,
            'mount_roots': values.mount_roots,
            'manifest_digests': values.manifest_digests,
            'manifest_list_entries': values.manifest_list_entries,
        }
