//! One business license face (the sample catalogue's example values) rendered to SVG, PNG
//! (scale 1, 1123×794 px) and PDF. Target: PDF at least 200 per second on one core, i.e. at
//! most 5 ms of CPU each.
//!
//! Time is the benchmarking thread's own CPU time (`CLOCK_THREAD_CPUTIME_ID`), so the
//! per-core figures hold on a machine busy with other work; where that clock is missing it
//! falls back to wall-clock time. The first call builds the cached fixed layer
//! of the template; criterion's warm-up absorbs it, as a running server would.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use elicense_face::{FaceInput, Faces, Seal};

/// CPU time of the current thread, in nanoseconds.
struct CpuTime;

static WALL: WallTime = WallTime;

fn thread_cpu_ns() -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

impl Measurement for CpuTime {
    type Intermediate = (Option<u64>, Instant);
    type Value = f64;

    fn start(&self) -> Self::Intermediate {
        (thread_cpu_ns(), Instant::now())
    }

    fn end(&self, (cpu, wall): Self::Intermediate) -> f64 {
        match (cpu, thread_cpu_ns()) {
            (Some(a), Some(b)) => (b - a) as f64,
            _ => wall.elapsed().as_nanos() as f64,
        }
    }

    fn add(&self, a: &f64, b: &f64) -> f64 {
        a + b
    }

    fn zero(&self) -> f64 {
        0.0
    }

    fn to_f64(&self, value: &f64) -> f64 {
        *value
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        // Values are nanoseconds, as for wall-clock time.
        WALL.formatter()
    }
}

fn input() -> FaceInput {
    let mut fields = BTreeMap::new();
    let mut items = Vec::new();
    for (name, label, value) in [
        ("name", "名称", "北京示例科技有限公司"),
        ("uscc", "统一社会信用代码", "91110101MA00000018"),
        ("entity_type", "类型", "有限责任公司（自然人投资或控股）"),
        ("legal_representative", "法定代表人", "张伟"),
        ("registered_capital", "注册资本", "100万元人民币"),
        ("established", "成立日期", "2015年03月12日"),
        ("business_term", "营业期限", "2015年03月12日 至 长期"),
        ("address", "住所", "北京市东城区东长安街1号院8号楼3层301室"),
        (
            "business_scope",
            "经营范围",
            "技术开发、技术咨询、技术服务；软件开发；计算机系统服务。（依法须经批准的项目，经相关部门批准后方可开展经营活动）",
        ),
    ] {
        fields.insert(format!("item.{name}"), value.to_owned());
        items.push((label.to_owned(), value.to_owned()));
    }
    for (k, v) in [
        ("type_name", "营业执照"),
        (
            "identifier",
            "1.2.156.3005.2.11100000000000001M001.11110000000000011T.2430599.001.F",
        ),
        ("license_number", "2430599"),
        ("holder_name", "北京示例科技有限公司"),
        ("issuer_name", "北京市市场监督管理局"),
        ("issue_date", "2024年01月15日"),
    ] {
        fields.insert(k.to_owned(), v.to_owned());
    }
    FaceInput {
        template: "faces/business_license.svg".to_owned(),
        fields,
        items,
        qr: "https://verify.example.gov.cn/v/1.2.156.3005.2.11100000000000001M001.11110000000000011T.2430599.001.F".to_owned(),
        seal: Seal { name: "北京市市场监督管理局".to_owned() },
        watermark: None,
    }
}

fn bench(c: &mut Criterion<CpuTime>) {
    let faces = Faces::new();
    let input = input();
    let mut group = c.benchmark_group("business_license");
    group.throughput(Throughput::Elements(1));
    group.bench_function("pdf", |b| b.iter(|| faces.pdf(black_box(&input)).unwrap()));
    group.bench_function("png", |b| {
        b.iter(|| faces.png(black_box(&input), 1.0).unwrap())
    });
    group.bench_function("svg", |b| b.iter(|| faces.svg(black_box(&input)).unwrap()));
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(CpuTime);
    targets = bench
}
criterion_main!(benches);
