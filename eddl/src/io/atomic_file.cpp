#include "io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "eddl/error.h"

namespace eddl::io {

void write_file_atomic(const std::string& path, const std::string& bytes) {
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    EDDL_CHECK(fd >= 0, "cannot write '" << path << "': " << std::strerror(errno));
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            const int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            EDDL_FAIL("cannot write '" << path << "': " << std::strerror(e));
        }
        done += size_t(w);
    }
    const bool synced = ::fsync(fd) == 0;
    const int e = errno;
    ::close(fd);
    if (!synced || std::rename(tmp.c_str(), path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        EDDL_FAIL("cannot write '" << path << "': " << std::strerror(synced ? errno : e));
    }
}

std::string read_file(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb");  // reads plain files unchanged too
    EDDL_CHECK(f, "cannot open '" << path << "': " << std::strerror(errno ? errno : ENOENT));
    std::string out;
    char buf[1 << 16];
    for (;;) {
        const int n = gzread(f, buf, sizeof buf);
        if (n < 0) {
            int code = 0;
            const std::string msg = gzerror(f, &code);
            gzclose(f);
            EDDL_FAIL("cannot read '" << path << "': corrupt or truncated gzip data (" << msg << ")");
        }
        if (n == 0) break;
        out.append(buf, size_t(n));
    }
    // gzread reports a cut-off gzip stream only through gzclose's status.
    const int rc = gzclose(f);
    EDDL_CHECK(rc == Z_OK, "cannot read '" << path << "': truncated or corrupt gzip data");
    return out;
}

}  // namespace eddl::io
