// Jobs see the context defined below them (engine/context.ts), so trainers, models and data code can
// use it without importing from jobs/.
export * from '../context';
