// Placeholder until the BoardAssembly work lands.
