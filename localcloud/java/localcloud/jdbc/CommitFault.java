package localcloud.jdbc;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.SQLException;
import java.util.List;
import java.util.Properties;

/**
 * Test ground only: a fault the local Glue runner arms for one run (localcloud/glue/faults.py), met at the
 * Iceberg commit of one table, i.e. when the run's data files and new metadata file are written and the
 * catalog's compare-and-swap (Glue's UpdateTable on AWS) is about to run.
 *
 * <p>It reaches the driver as connection properties ({@code localcloud.fault.*}: the catalog's
 * {@code jdbc.localcloud.fault.*} settings, which Iceberg's JdbcClientPool passes on) and is never given to
 * SQLite. It fires once: it creates the {@code reached} file (so a test knows where the run is), then
 * {@code hold}: waits for the {@code release} file (at most {@code timeout-s}) and lets the commit go on;
 * {@code kill}: SIGKILLs the run's whole process group (the Glue driver, its JVM, PySpark's workers).
 */
final class CommitFault {
    static final String PREFIX = "localcloud.fault.";
    /** Iceberg's JdbcUtil commit of a table: parameters 4 and 5 are its namespace and name. */
    private static final String COMMIT_SQL = "UPDATE iceberg_tables SET metadata_location = ?";
    private static final long POLL_MS = 50;

    private final String namespace;
    private final String table;
    private final String action;
    private final Path reached;
    private final Path release;
    private final long timeoutMs;

    private CommitFault(Properties p) {
        namespace = p.getProperty(PREFIX + "namespace", "");
        table = p.getProperty(PREFIX + "table", "");
        action = p.getProperty(PREFIX + "action", "");
        reached = Path.of(p.getProperty(PREFIX + "reached"));
        release = Path.of(p.getProperty(PREFIX + "release"));
        timeoutMs = (long) (Double.parseDouble(p.getProperty(PREFIX + "timeout-s", "600")) * 1000);
    }

    /** The fault armed for this connection, or null. */
    static CommitFault from(Properties info) {
        return info != null && info.getProperty(PREFIX + "action") != null ? new CommitFault(info) : null;
    }

    /** The connection properties SQLite gets: without the fault's. */
    static Properties withoutFault(Properties info) {
        if (info == null) {
            return null;
        }
        Properties copy = new Properties();
        for (String k : info.stringPropertyNames()) {
            if (!k.startsWith(PREFIX)) {
                copy.setProperty(k, info.getProperty(k));
            }
        }
        return copy;
    }

    /** Whether a PreparedStatement with this SQL and these set* calls commits the fault's table. */
    boolean isTargetCommit(String sql, List<Object[]> setters) {
        return sql != null && sql.startsWith(COMMIT_SQL) && namespace.equals(parameter(setters, 4))
                && table.equals(parameter(setters, 5));
    }

    private static Object parameter(List<Object[]> setters, int index) {
        Object value = null;
        for (Object[] call : setters) {
            Object[] args = (Object[]) call[1];
            if (Integer.valueOf(index).equals(args[0]) && ((Method) call[0]).getName().equals("setString")) {
                value = args[1];
            }
        }
        return value;
    }

    void fire() throws SQLException {
        try {
            Files.writeString(reached, action + " " + ProcessHandle.current().pid() + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            return; // fired already (this is Iceberg's retry of the same commit)
        } catch (IOException e) {
            throw new SQLException("localcloud fault: cannot write " + reached, e);
        }
        if (action.equals("kill")) {
            killOwnProcessGroup();
        }
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!Files.exists(release) && System.currentTimeMillis() < deadline) {
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("localcloud fault: interrupted while held", e);
            }
        }
    }

    private static void killOwnProcessGroup() throws SQLException {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"), StandardCharsets.UTF_8);
            // "pid (comm) state ppid pgrp ...": comm may hold spaces, so count from its closing parenthesis.
            String pgrp = stat.substring(stat.lastIndexOf(')') + 2).split(" ")[2];
            new ProcessBuilder("kill", "-KILL", "--", "-" + pgrp).inheritIO().start().waitFor();
        } catch (IOException e) {
            throw new SQLException("localcloud fault: cannot kill the process group", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Runtime.getRuntime().halt(137); // only if the kill missed this JVM
    }
}
