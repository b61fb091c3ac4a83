//! A database of its own for each test, on the server `WERKTAFEL_TEST_PG`
//! names, dropped when the test ends.

use super::PostgresStore;

/// The variable naming the PostgreSQL server the tests may use.
pub const TEST_PG: &str = "WERKTAFEL_TEST_PG";

/// A fresh, empty database, dropped (with its connections) when this is.
pub struct TestDb {
    admin: postgres::Config,
    name: String,
    pub config: postgres::Config,
}

impl TestDb {
    /// Creates the database; fails, saying how to get a server, when
    /// `WERKTAFEL_TEST_PG` is unset: these tests never pass unrun.
    pub fn create() -> TestDb {
        let url = std::env::var(TEST_PG).unwrap_or_else(|_| {
            panic!(
                "{TEST_PG} is not set, so the PostgreSQL store cannot be tested. \
                 ./test.sh starts a private PostgreSQL itself when it is installed \
                 (Debian: apt-get install postgresql); or point {TEST_PG} at a server \
                 where this user may create databases, e.g. \
                 {TEST_PG}=postgres://postgres@127.0.0.1:5432/postgres"
            )
        });
        let admin: postgres::Config = url
            .parse()
            .unwrap_or_else(|e| panic!("{TEST_PG}={url} is no PostgreSQL URL: {e}"));
        let name = format!("wt_test_{:016x}", rand::random::<u64>());
        let mut client = admin
            .connect(postgres::NoTls)
            .unwrap_or_else(|e| panic!("connecting to {TEST_PG}={url}: {e}"));
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("creating a test database on {url}: {e}"));
        let mut config = admin.clone();
        config.dbname(&name);
        TestDb {
            admin,
            name,
            config,
        }
    }

    /// A store on a fresh database, and the database.
    pub fn store() -> (TestDb, PostgresStore) {
        let db = TestDb::create();
        let store = PostgresStore::open(&db.config).expect("opening the test database");
        (db, store)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // FORCE: a handle a failed test left open must not keep it.
        if let Ok(mut client) = self.admin.connect(postgres::NoTls) {
            let _ = client.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
