"""Playbooks: what a team prepared for one kind of incident, kept as YAML files.

``model`` says what a playbook is, ``loader`` reads a directory of them (``PLAYBOOKS_DIR``,
or the examples shipped in ``examples/``), ``check`` runs the tone check over their customer
templates for ``amends playbooks check``.
"""
