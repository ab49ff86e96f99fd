"""Tools around the components, not components: the offline planner (``plan/``, run as
``python -m components.plan``), the policy rules (``policy.py``) and their Pulumi policy pack
(``policy_pack.py``), and the generator of ``docs/components.md`` (``reference.py``). No pattern imports them."""
