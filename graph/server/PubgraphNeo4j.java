// Runs the real Neo4j Community engine (from Maven Central jars) with a Bolt connector.
// Started by `pubgraph neo4j start`; stopped by SIGTERM, which shuts the engine down cleanly.
// Any exception during start-up prints one "pubgraph-neo4j: start-up failed: ..." line,
// shuts the engine down and exits with status 1: the engine's own threads would otherwise
// keep the JVM alive after the main thread died, and `neo4j start` would wait for nothing.
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;
import org.neo4j.kernel.internal.Version;

public final class PubgraphNeo4j {
    private static volatile DatabaseManagementService dbms;

    public static void main(String[] args) {
        try {
            start(args);
        } catch (Throwable e) {
            // The innermost cause with a message says what went wrong.
            Throwable why = e;
            for (Throwable c = e.getCause(); c != null && c != why; c = c.getCause()) {
                if (c.getMessage() != null) {
                    why = c;
                }
            }
            e.printStackTrace(System.out);
            System.out.println("pubgraph-neo4j: start-up failed: " + why.getClass().getSimpleName()
                    + ": " + String.valueOf(why.getMessage()).replace('\n', ' '));
            System.out.flush();
            DatabaseManagementService running = dbms;
            dbms = null;
            if (running != null) {
                try {
                    running.shutdown();
                } catch (Throwable ignored) {
                    // exiting anyway
                }
            }
            Runtime.getRuntime().halt(1);
        }
    }

    private static void start(String[] args) throws Exception {
        Map<String, String> opt = new java.util.HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        Path home = Path.of(opt.getOrDefault("home", ".pubgraph/neo4j")).toAbsolutePath();
        String host = opt.getOrDefault("host", "127.0.0.1");
        int port = Integer.parseInt(opt.getOrDefault("port", "7687"));
        boolean auth = Boolean.parseBoolean(opt.getOrDefault("auth", "true"));
        String pagecache = opt.getOrDefault("pagecache", "512m");
        Files.createDirectories(home);

        dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(host, port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress(host, port))
                .setConfig(HttpConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, auth)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.parse(pagecache))
                .setConfig(GraphDatabaseSettings.shutdown_transaction_end_timeout, Duration.ofSeconds(10))
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            DatabaseManagementService running = dbms;
            if (running == null) {
                return;
            }
            System.out.println("pubgraph-neo4j: shutting down");
            running.shutdown();
            System.out.println("pubgraph-neo4j: stopped");
        }));

        String password = System.getenv("PUBGRAPH_NEO4J_INITIAL_PASSWORD");
        if (auth && password != null && !password.isEmpty()) {
            // The engine creates user neo4j with password "neo4j" (change required) on first start.
            // Setting the configured password here is what `neo4j-admin set-initial-password` does.
            try {
                dbms.database("system").executeTransactionally(
                        "ALTER USER neo4j SET PLAINTEXT PASSWORD $pw CHANGE NOT REQUIRED",
                        Map.of("pw", password));
            } catch (RuntimeException e) {
                if (!String.valueOf(e.getMessage()).contains("Old password and new password cannot be the same")) {
                    throw e;
                }
            }
        }
        System.out.println("pubgraph-neo4j: ready version=" + Version.getNeo4jVersion()
                + " bolt=bolt://" + host + ":" + port + " home=" + home);
        System.out.flush();
        Thread.currentThread().join();
    }
}
