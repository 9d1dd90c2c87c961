"""(being written)"""

METHODS = {}
