"""The bench game on Python nodelink 0.6.0, with its own API: each move sets the
player's position, every change goes to everyone at 20 ticks per second, and chat
lines are broadcast to everyone.

Python nodelink 0.6.0 has rooms for broadcasts only, not for state sync, so there is
no room-scoped game here (loadgen's `rooms` scenario skips Python).

Run by `loadgen --target python` as `.venv/bin/python -u server.py PORT`.
"""

import sys

from nodelink import Server

server = Server(host="127.0.0.1", port=int(sys.argv[1]), tick_rate=20)


@server.on("move")
def on_move(player, data):
    player.update_state({"x": data["x"], "y": data["y"]})


@server.on("chat")
def on_chat(player, data):
    server.broadcast("chat", {"from": player.id, "msg": data["msg"]})


server.start()
