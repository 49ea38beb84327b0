#!/usr/bin/env node
import './threadpool.ts';
import { main } from './main.ts';

process.exitCode = await main(process.argv);
