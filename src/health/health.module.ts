import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from 'src/health/health.controller';

@Module({
  controllers: [HealthController],
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json', logger: false })],
})
export class HealthModule {}
