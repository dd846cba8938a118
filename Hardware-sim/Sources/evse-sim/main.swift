print("evse-sim: not built yet")
