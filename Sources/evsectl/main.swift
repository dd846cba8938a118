print("evsectl: not built yet")
