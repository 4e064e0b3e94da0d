"""The `sync` game on Python nodelink 0.6.0, with its own API: each move sets the
player's position, and every change goes to everyone at 20 ticks per second.

Run by `loadgen --target python` as `.venv/bin/python -u server.py PORT`.
"""

import sys

from nodelink import Server

server = Server(host="127.0.0.1", port=int(sys.argv[1]), tick_rate=20)


@server.on("move")
def on_move(player, data):
    player.update_state({"x": data["x"], "y": data["y"]})


server.start()
