#[test]
fn deep_any() {
    let depth = 100_000;
    let mut u = vec![1u8, 1, 5, 0, 8, 1, 1, b't', 1];
    for _ in 0..depth {
        u.push(117);
        u.push(1);
    }
    u.push(126);
    u.push(0);
    let h = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let r = yrs::updates::decoder::Decode::decode_v1(&u[..]).map(|_: yrs::Update| ());
            println!("decoded: {:?}", r.is_ok());
        })
        .unwrap();
    println!("{:?}", h.join().is_ok());
}
