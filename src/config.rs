//! Configuration parameters: what CONFIG GET reads and CONFIG SET changes.

/// The server's configuration.
#[derive(Clone, Debug)]
pub struct Config {
    databases: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config { databases: 16 }
    }
}

impl Config {
    /// Number of databases.
    pub fn databases(&self) -> usize {
        self.databases
    }

    /// Sets the number of databases (only at start, as in Redis).
    pub fn set_databases(&mut self, n: usize) {
        self.databases = n;
    }
}
