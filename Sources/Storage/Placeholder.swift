// Placeholder until the Storage work lands.
