print("evsed: not built yet")
