"""Generators of the IIM evidence handbook.

The build flows forward only: load -> validate (schema, then rules) -> model (derive)
-> render -> write, with export/pdf reading the same model. Each stage is one module.
"""
