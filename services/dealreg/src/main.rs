fn main() -> anyhow::Result<()> {
    prm_runtime::service::main::<prm_dealreg::Dealreg>()
}
