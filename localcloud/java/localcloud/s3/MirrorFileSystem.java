package localcloud.s3;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

/**
 * A Hadoop FileSystem for s3://, s3a:// and s3n:// URIs that stores object {@code s3://bucket/key}
 * as the local file {@code <mirror>/bucket/key}.
 *
 * Local Spark has no S3 connector (hadoop-aws is not on PyPI or Debian), so the localcloud Glue
 * runner copies the objects a job run can see from the local endpoint into the mirror before the
 * run and uploads what the run wrote afterwards; Spark code that reads and writes s3:// paths runs
 * unchanged. Paths handed back to Spark (listings, statuses) keep their s3:// form.
 *
 * Configuration: {@code fs.localcloud.s3.mirror} = absolute local directory of the mirror.
 */
public class MirrorFileSystem extends FileSystem {
    public static final String MIRROR_KEY = "fs.localcloud.s3.mirror";

    private String scheme = "s3";
    private String bucket;
    private URI uri;
    private String bucketRoot; // local absolute path of <mirror>/<bucket>, no trailing slash
    private RawLocalFileSystem local;
    private Path workingDir;

    @Override
    public String getScheme() {
        return scheme;
    }

    @Override
    public void initialize(URI name, Configuration conf) throws IOException {
        super.initialize(name, conf);
        setConf(conf);
        if (name.getAuthority() == null || name.getAuthority().isEmpty()) {
            throw new IOException("S3 URI without a bucket: " + name);
        }
        scheme = name.getScheme();
        bucket = name.getAuthority();
        String mirror = conf.get(MIRROR_KEY);
        if (mirror == null || mirror.isEmpty()) {
            throw new IOException(MIRROR_KEY + " is not set: s3:// paths only work under the localcloud Glue runner"
                    + " (localcloud.glue.runner), which sets it to its local mirror of the endpoint's buckets");
        }
        String root = new java.io.File(mirror).getAbsolutePath();
        while (root.endsWith("/") && root.length() > 1) {
            root = root.substring(0, root.length() - 1);
        }
        bucketRoot = root + "/" + bucket;
        uri = URI.create(scheme + "://" + bucket);
        workingDir = new Path(scheme, bucket, "/");
        local = new RawLocalFileSystem();
        local.initialize(URI.create("file:///"), conf);
    }

    @Override
    public URI getUri() {
        return uri;
    }

    /** s3://bucket/key -> file:<mirror>/bucket/key */
    Path toLocal(Path p) {
        Path q = p.isAbsolute() ? p : new Path(workingDir, p);
        URI u = q.toUri();
        if (u.getAuthority() != null && !u.getAuthority().equals(bucket)) {
            throw new IllegalArgumentException("path " + p + " is not in bucket " + bucket);
        }
        String key = u.getPath();
        if (key == null || key.isEmpty()) {
            key = "/";
        }
        return new Path("file", null, key.equals("/") ? bucketRoot : bucketRoot + key);
    }

    /** file:<mirror>/bucket/key -> s3://bucket/key */
    Path toS3(Path localPath) {
        String p = localPath.toUri().getPath();
        if (p.equals(bucketRoot)) {
            return new Path(scheme, bucket, "/");
        }
        if (!p.startsWith(bucketRoot + "/")) {
            throw new IllegalStateException("local path " + p + " is outside the mirror of bucket " + bucket);
        }
        return new Path(scheme, bucket, p.substring(bucketRoot.length()));
    }

    private FileStatus toS3(FileStatus s) throws IOException {
        return new FileStatus(s.getLen(), s.isDirectory(), s.getReplication(), s.getBlockSize(),
                s.getModificationTime(), s.getAccessTime(), s.getPermission(), s.getOwner(), s.getGroup(),
                toS3(s.getPath()));
    }

    @Override
    public FSDataInputStream open(Path f, int bufferSize) throws IOException {
        return local.open(toLocal(f), bufferSize);
    }

    @Override
    public FSDataOutputStream create(Path f, FsPermission permission, boolean overwrite, int bufferSize,
            short replication, long blockSize, Progressable progress) throws IOException {
        return local.create(toLocal(f), permission, overwrite, bufferSize, replication, blockSize, progress);
    }

    @Override
    public FSDataOutputStream append(Path f, int bufferSize, Progressable progress) throws IOException {
        throw new IOException("append is not supported on S3: " + f);
    }

    @Override
    public boolean rename(Path src, Path dst) throws IOException {
        return local.rename(toLocal(src), toLocal(dst));
    }

    @Override
    public boolean delete(Path f, boolean recursive) throws IOException {
        return local.delete(toLocal(f), recursive);
    }

    @Override
    public FileStatus[] listStatus(Path f) throws FileNotFoundException, IOException {
        FileStatus[] in = local.listStatus(toLocal(f));
        FileStatus[] out = new FileStatus[in.length];
        for (int i = 0; i < in.length; i++) {
            out[i] = toS3(in[i]);
        }
        return out;
    }

    @Override
    public void setWorkingDirectory(Path newDir) {
        workingDir = newDir.isAbsolute() ? newDir : new Path(workingDir, newDir);
    }

    @Override
    public Path getWorkingDirectory() {
        return workingDir;
    }

    @Override
    public boolean mkdirs(Path f, FsPermission permission) throws IOException {
        return local.mkdirs(toLocal(f), permission);
    }

    @Override
    public FileStatus getFileStatus(Path f) throws IOException {
        return toS3(local.getFileStatus(toLocal(f)));
    }

    @Override
    public void close() throws IOException {
        try {
            if (local != null) {
                local.close();
            }
        } finally {
            super.close();
        }
    }
}
