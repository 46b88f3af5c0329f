"""Lesson 13: a Rust mapping used as Python code uses a dict."""

from target.debug.mapping import Rollback, StringMap

stock = StringMap()
stock["apples"] = 3
stock["pears"] = 5
stock["apples"] += 1
print(stock, len(stock), "pears" in stock, list(stock))
try:
    stock["plums"]
except KeyError as error:
    print("KeyError:", error)
stock.limit = 2
try:
    stock["plums"] = 1
except ValueError as error:
    print("ValueError:", error)
del stock.limit
with stock.transaction():
    stock["plums"] = 7
    raise Rollback
print(stock)
with stock.transaction():
    del stock["apples"]
print(stock)
