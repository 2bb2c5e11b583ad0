"""The bottom layer: settings, errors, model resolution and the contracts between packages.

Nothing here imports any other pubgraph package.
"""
