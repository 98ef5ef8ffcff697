/** The object, recording the name of every member read from it: which store methods a path used. */
export function watched<T extends object>(target: T): { value: T; touched: string[] } {
  const touched: string[] = [];
  const value = new Proxy(target, {
    get(object, name, receiver) {
      touched.push(String(name));
      return Reflect.get(object, name, receiver);
    },
  });
  return { value, touched };
}
